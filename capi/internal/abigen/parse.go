package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Entry is one enumerator of an enum of the header: its C name, value and
// documentation comment (leading `*` and line breaks removed). Quoted is the
// comment's leading "quoted string" (a status's description, a buffer's
// name), or "".
type Entry struct {
	Name   string
	Value  int
	Doc    string
	Quoted string
}

// Header holds the ABI facts of include/geomloss.h.
type Header struct {
	Defines map[string]string // #define GEOMLOSS_X value (one-line defines only)
	Enums   map[string][]Entry
}

var (
	defineRE  = regexp.MustCompile(`(?m)^#define (GEOMLOSS_[A-Z0-9_]+) ([^\\\n]+)$`)
	enumRE    = regexp.MustCompile(`(?s)typedef enum (geomloss_\w+) \{(.*?)\} (geomloss_\w+);`)
	itemRE    = regexp.MustCompile(`(?s)/\*(.*?)\*/|(GEOMLOSS_[A-Z0-9_]+)\s*=\s*(-?\d+)`)
	quotedRE  = regexp.MustCompile(`^"([^"]*)"\s*:?\s*`)
	commentNL = regexp.MustCompile(`\n\s*\*?\s?`)
)

// Parse reads the defines and enums of the header. Each enumerator's doc is
// the comment on its own line (trailing) or else the comment just before it.
func Parse(src string) (*Header, error) {
	h := &Header{Defines: map[string]string{}, Enums: map[string][]Entry{}}
	for _, m := range defineRE.FindAllStringSubmatch(src, -1) {
		h.Defines[m[1]] = strings.TrimSpace(m[2])
	}
	for _, m := range enumRE.FindAllStringSubmatch(src, -1) {
		if m[1] != m[3] {
			return nil, fmt.Errorf("typedef enum %s {...} %s: the tag and the typedef name differ", m[1], m[3])
		}
		body := m[2]
		var entries []Entry
		pending, lastEnd := "", -1
		for _, loc := range itemRE.FindAllStringSubmatchIndex(body, -1) {
			if loc[2] >= 0 { // a comment
				text := strings.TrimSpace(commentNL.ReplaceAllString(body[loc[2]:loc[3]], " "))
				if n := len(entries); n > 0 && entries[n-1].Doc == "" && !strings.Contains(body[lastEnd:loc[0]], "\n") {
					entries[n-1].Doc = text
				} else {
					pending = text
				}
				continue
			}
			v, err := strconv.Atoi(body[loc[6]:loc[7]])
			if err != nil {
				return nil, err
			}
			entries = append(entries, Entry{Name: body[loc[4]:loc[5]], Value: v, Doc: pending})
			pending, lastEnd = "", loc[1]
		}
		for i := range entries {
			if q := quotedRE.FindStringSubmatch(entries[i].Doc); q != nil {
				entries[i].Quoted = q[1]
				entries[i].Doc = entries[i].Doc[len(q[0]):]
			}
		}
		if len(entries) == 0 {
			return nil, fmt.Errorf("enum %s has no enumerators", m[1])
		}
		h.Enums[m[1]] = entries
	}
	for _, want := range []string{"geomloss_status", "geomloss_option", "geomloss_loss", "geomloss_backend", "geomloss_device", "geomloss_dtype", "geomloss_buffer_key"} {
		if _, ok := h.Enums[want]; !ok {
			return nil, fmt.Errorf("the header has no enum %s", want)
		}
	}
	return h, nil
}

// Int returns an integer #define.
func (h *Header) Int(name string) (int, error) {
	v, ok := h.Defines[name]
	if !ok {
		return 0, fmt.Errorf("the header has no #define %s", name)
	}
	return strconv.Atoi(v)
}

// Version returns MAJOR, MINOR, PATCH and the version string, checking that
// they agree.
func (h *Header) Version() (major, minor, patch int, str string, err error) {
	if major, err = h.Int("GEOMLOSS_VERSION_MAJOR"); err != nil {
		return
	}
	if minor, err = h.Int("GEOMLOSS_VERSION_MINOR"); err != nil {
		return
	}
	if patch, err = h.Int("GEOMLOSS_VERSION_PATCH"); err != nil {
		return
	}
	str, err = strconv.Unquote(h.Defines["GEOMLOSS_VERSION_STRING"])
	if err == nil && str != fmt.Sprintf("%d.%d.%d", major, minor, patch) {
		err = fmt.Errorf("GEOMLOSS_VERSION_STRING %q disagrees with MAJOR.MINOR.PATCH %d.%d.%d", str, major, minor, patch)
	}
	return
}

// Option is a geomloss_option key with its type and, for enumerated
// options, the enum of its values.
type Option struct {
	Entry
	Label  string // "cluster_scale"
	Double bool   // [double]; else [int]
	Enum   string // "geomloss_loss" for [int, or string] options, else ""
}

var optionTypeRE = regexp.MustCompile(`^\[(int|double|int, or string)\]\s*(geomloss_\w+)?`)

// Options returns the option keys.
func (h *Header) Options() ([]Option, error) {
	var out []Option
	for _, e := range h.Enums["geomloss_option"] {
		m := optionTypeRE.FindStringSubmatch(e.Doc)
		if m == nil {
			return nil, fmt.Errorf("%s: its comment must start with [int], [double] or [int, or string]", e.Name)
		}
		o := Option{Entry: e, Label: strings.ToLower(strings.TrimPrefix(e.Name, "GEOMLOSS_OPT_")), Double: m[1] == "double"}
		if m[1] == "int, or string" {
			if _, ok := h.Enums[m[2]]; !ok {
				return nil, fmt.Errorf("%s: enumerated option without a known enum (%q)", e.Name, m[2])
			}
			o.Enum = m[2]
		}
		out = append(out, o)
	}
	return out, nil
}

// Buffer is a geomloss_buffer_key with its shape.
type Buffer struct {
	Entry
	Dims     string // "BND": the sizes whose product is the element count
	What     string // "points of the first clouds"
	Required bool
	Output   bool
	Int64    bool // an int64_t array whatever the dtype ("[B][N] int64_t what")
}

var bufferDocRE = regexp.MustCompile(`^((?:\[[BNMDKL]\])+)\s*(.*)$`)

// bufferWhat is the description in a buffer key's comment after its sizes:
// the text up to the first ';' outside parentheses (what follows says what
// an unset buffer means), less a final '.' and one final remark in
// parentheses after a space ("(required)", "(needs v)"). Parentheses within
// the description stay: "the barycentric map (pi y)_i / (pi 1)_i",
// "grad_1 C(x_i, y_j)".
func bufferWhat(s string) string {
	depth := 0
	for i, r := range s {
		if r == '(' {
			depth++
		} else if r == ')' {
			depth--
		} else if r == ';' && depth == 0 {
			s = s[:i]
			break
		}
	}
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if strings.HasSuffix(s, ")") {
		depth = 0
		for i := len(s) - 1; i >= 0; i-- {
			if s[i] == ')' {
				depth++
			} else if s[i] == '(' {
				if depth--; depth == 0 {
					if i > 0 && s[i-1] == ' ' {
						s = strings.TrimSpace(s[:i])
					}
					break
				}
			}
		}
	}
	return strings.TrimSuffix(s, ".")
}

// Buffers returns the buffer keys.
func (h *Header) Buffers() ([]Buffer, error) {
	out0, err := h.Int("GEOMLOSS_BUF_OUTPUTS_BEGIN")
	if err != nil {
		return nil, err
	}
	later, err := h.Int("GEOMLOSS_BUF_LATER_BEGIN")
	if err != nil {
		return nil, err
	}
	var out []Buffer
	for _, e := range h.Enums["geomloss_buffer_key"] {
		m := bufferDocRE.FindStringSubmatch(e.Doc)
		if e.Quoted == "" || m == nil {
			return nil, fmt.Errorf("%s: its comment must read \"name\": [B][N]... what", e.Name)
		}
		if e.Value <= 0 || e.Value >= later {
			return nil, fmt.Errorf("%s = %d: outside the key ranges", e.Name, e.Value)
		}
		what, int64 := strings.CutPrefix(bufferWhat(m[2]), "int64_t ")
		out = append(out, Buffer{Entry: e, Dims: strings.NewReplacer("[", "", "]", "").Replace(m[1]),
			What: what, Required: strings.Contains(e.Doc, "(required)"), Output: e.Value >= out0, Int64: int64})
	}
	return out, nil
}

// camel turns GEOMLOSS_ERR_NULL_POINTER into ErrNullPointer, with the
// prefixes of the Go package: ERR_ → Err, OPT_ → Key; GEOMLOSS_OK → OK.
func camel(name string) string {
	s := strings.TrimPrefix(name, "GEOMLOSS_")
	if s == "OK" {
		return "OK"
	}
	if rest, ok := strings.CutPrefix(s, "OPT_"); ok {
		s = "KEY_" + rest
	}
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if part == "" {
			continue
		}
		if part == "CPU" || part == "GPU" { // acronyms stay upper-case
			b.WriteString(part)
			continue
		}
		b.WriteString(part[:1])
		b.WriteString(strings.ToLower(part[1:]))
	}
	return b.String()
}

// short turns GEOMLOSS_ERR_SHAPE into ERR_SHAPE (Python and Julia names).
func short(name string) string { return strings.TrimPrefix(name, "GEOMLOSS_") }

// label turns GEOMLOSS_LOSS_SINKHORN into "sinkhorn" given the prefix.
func label(name, prefix string) string { return strings.ToLower(strings.TrimPrefix(name, prefix)) }

// enumPrefix is the common prefix of an enum's value names.
var enumPrefix = map[string]string{
	"geomloss_loss":    "GEOMLOSS_LOSS_",
	"geomloss_backend": "GEOMLOSS_BACKEND_",
	"geomloss_device":  "GEOMLOSS_DEVICE_",
	"geomloss_cost":    "GEOMLOSS_COST_",
}
