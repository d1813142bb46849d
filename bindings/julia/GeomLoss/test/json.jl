# A small, strict JSON reader for the golden test data (standard library only).
#
# Objects become Dict{String,Any}, arrays Vector{Any}, numbers Int (no fraction
# or exponent) or Float64, `null` becomes `nothing`. Float64 values are parsed
# with Julia's correctly rounded parser, so the shortest round-trip
# representations written by Python come back as the exact float64 values.
module MiniJSON

export parse_json

struct Parser
    s::Vector{UInt8}
end

mutable struct Cursor
    i::Int
end

@inline function skipws(p::Parser, c::Cursor)
    s = p.s
    i = c.i
    n = length(s)
    while i <= n && (s[i] == UInt8(' ') || s[i] == UInt8('\n') || s[i] == UInt8('\r') || s[i] == UInt8('\t'))
        i += 1
    end
    c.i = i
    return nothing
end

jsonerror(c::Cursor, msg) = error("JSON: $msg at byte $(c.i)")

function peekbyte(p::Parser, c::Cursor)
    c.i <= length(p.s) || jsonerror(c, "unexpected end of input")
    return p.s[c.i]
end

function expect(p::Parser, c::Cursor, b::UInt8)
    skipws(p, c)
    peekbyte(p, c) == b || jsonerror(c, "expected '$(Char(b))', found '$(Char(p.s[c.i]))'")
    c.i += 1
    return nothing
end

function parse_value(p::Parser, c::Cursor)
    skipws(p, c)
    b = peekbyte(p, c)
    if b == UInt8('{')
        return parse_object(p, c)
    elseif b == UInt8('[')
        return parse_array(p, c)
    elseif b == UInt8('"')
        return parse_string(p, c)
    elseif b == UInt8('-') || UInt8('0') <= b <= UInt8('9')
        return parse_number(p, c)
    elseif literal(p, c, "true")
        return true
    elseif literal(p, c, "false")
        return false
    elseif literal(p, c, "null")
        return nothing
    end
    jsonerror(c, "unexpected character '$(Char(b))'")
end

function literal(p::Parser, c::Cursor, word::String)
    w = codeunits(word)
    last = c.i + length(w) - 1
    last <= length(p.s) || return false
    @inbounds for k in 1:length(w)
        p.s[c.i+k-1] == w[k] || return false
    end
    c.i = last + 1
    return true
end

function parse_object(p::Parser, c::Cursor)
    c.i += 1  # '{'
    d = Dict{String,Any}()
    skipws(p, c)
    if peekbyte(p, c) == UInt8('}')
        c.i += 1
        return d
    end
    while true
        skipws(p, c)
        peekbyte(p, c) == UInt8('"') || jsonerror(c, "expected a key")
        k = parse_string(p, c)
        expect(p, c, UInt8(':'))
        d[k] = parse_value(p, c)
        skipws(p, c)
        b = peekbyte(p, c)
        c.i += 1
        b == UInt8('}') && return d
        b == UInt8(',') || jsonerror(c, "expected ',' or '}' in an object")
    end
end

function parse_array(p::Parser, c::Cursor)
    c.i += 1  # '['
    v = Any[]
    skipws(p, c)
    if peekbyte(p, c) == UInt8(']')
        c.i += 1
        return v
    end
    while true
        push!(v, parse_value(p, c))
        skipws(p, c)
        b = peekbyte(p, c)
        c.i += 1
        b == UInt8(']') && return v
        b == UInt8(',') || jsonerror(c, "expected ',' or ']' in an array")
    end
end

function parse_string(p::Parser, c::Cursor)
    c.i += 1  # opening quote
    s = p.s
    start = c.i
    # Fast path: no escapes.
    i = start
    while i <= length(s) && s[i] != UInt8('"') && s[i] != UInt8('\\')
        i += 1
    end
    i <= length(s) || jsonerror(c, "unterminated string")
    if s[i] == UInt8('"')
        c.i = i + 1
        return String(s[start:i-1])
    end
    io = IOBuffer()
    write(io, view(s, start:i-1))
    while true
        i <= length(s) || jsonerror(c, "unterminated string")
        b = s[i]
        if b == UInt8('"')
            c.i = i + 1
            return String(take!(io))
        elseif b == UInt8('\\')
            i + 1 <= length(s) || jsonerror(c, "unterminated escape")
            e = s[i+1]
            if e == UInt8('u')
                i + 5 <= length(s) || jsonerror(c, "short \\u escape")
                u = parse(UInt32, String(s[i+2:i+5]); base = 16)
                i += 6
                if 0xd800 <= u <= 0xdbff && i + 5 <= length(s) && s[i] == UInt8('\\') && s[i+1] == UInt8('u')
                    lo = parse(UInt32, String(s[i+2:i+5]); base = 16)
                    if 0xdc00 <= lo <= 0xdfff
                        u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00)
                        i += 6
                    end
                end
                print(io, Char(u))
                continue
            end
            ch = e == UInt8('n') ? '\n' : e == UInt8('t') ? '\t' : e == UInt8('r') ? '\r' :
                 e == UInt8('b') ? '\b' : e == UInt8('f') ? '\f' :
                 (e == UInt8('"') || e == UInt8('\\') || e == UInt8('/')) ? Char(e) :
                 jsonerror(c, "bad escape '\\$(Char(e))'")
            print(io, ch)
            i += 2
        else
            write(io, b)
            i += 1
        end
    end
end

function parse_number(p::Parser, c::Cursor)
    s = p.s
    start = c.i
    i = start
    isfloat = false
    while i <= length(s)
        b = s[i]
        if UInt8('0') <= b <= UInt8('9') || b == UInt8('-') || b == UInt8('+')
            i += 1
        elseif b == UInt8('.') || b == UInt8('e') || b == UInt8('E')
            isfloat = true
            i += 1
        else
            break
        end
    end
    c.i = i
    str = String(s[start:i-1])
    if isfloat
        v = tryparse(Float64, str)
    else
        v = tryparse(Int, str)
        v === nothing && (v = tryparse(Float64, str))
    end
    v === nothing && jsonerror(c, "bad number '$str'")
    return v
end

"""
    parse_json(text::AbstractString)

Parse a JSON document (strict: one value, only whitespace around it).
"""
function parse_json(text::Union{AbstractString,Vector{UInt8}})
    p = Parser(text isa Vector{UInt8} ? text : Vector{UInt8}(codeunits(String(text))))
    c = Cursor(1)
    v = parse_value(p, c)
    skipws(p, c)
    c.i > length(p.s) || jsonerror(c, "trailing characters")
    return v
end

end # module
