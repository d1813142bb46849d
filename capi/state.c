/* The parts of the C ABI that are plain C: per-thread error and last-run
 * state (Go has no thread-local storage; the exported Go functions run on the
 * caller's thread, so they store into it through these helpers), static
 * strings (the tables of abi_gen.h, generated from geomloss.h), and the call
 * through a progress function pointer. Every public function here is
 * compiled against geomloss.h's prototype. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "abi_gen.h"
#include "capi.h"

#define GLC_API GEOMLOSS_API

#define ERR_CAP 4096
#define NAME_CAP 256
#define NOTE_CAP 1024

/* Per-thread state lives on the heap, found through a pthread key, and is
 * freed when its thread exits. It is not in _Thread_local variables: a
 * library loaded with dlopen (Python's ctypes, Julia's ccall) must fit its
 * static TLS block, which the Go runtime already claims (initial-exec TLS), in
 * glibc's small static-TLS surplus; kilobytes of TLS buffers would make dlopen
 * fail with "cannot allocate memory in static TLS block". */
struct thread_state {
  size_t err_len;
  int run_valid, run_backend, run_device;
  char err[ERR_CAP];
  char engine[NAME_CAP];
  char note[NOTE_CAP];
};

static pthread_key_t state_key;
static pthread_once_t state_once = PTHREAD_ONCE_INIT;
static int state_key_ok;

static void make_state_key(void) { state_key_ok = pthread_key_create(&state_key, free) == 0; }

/* The calling thread's state; created on first use if create is set. NULL
 * when there is none (or no memory for it): readers then see "no error, no
 * run". */
static struct thread_state *state(int create) {
  struct thread_state *s;
  pthread_once(&state_once, make_state_key);
  if (!state_key_ok) return NULL;
  s = (struct thread_state *)pthread_getspecific(state_key);
  if (s == NULL && create) {
    s = (struct thread_state *)calloc(1, sizeof *s);
    if (s != NULL && pthread_setspecific(state_key, s) != 0) {
      free(s);
      s = NULL;
    }
  }
  return s;
}

/* Copies len bytes of src (NULL: none) into dst (cap bytes), NUL-terminated;
 * a string too long is cut and ends with "...". Returns the stored length. */
static size_t store(char *dst, size_t cap, const char *src, size_t len) {
  if (src == NULL) len = 0;
  if (len > cap - 1) {
    len = cap - 4;
    memcpy(dst, src, len);
    memcpy(dst + len, "...", 3);
    len += 3;
  } else if (len > 0) {
    memcpy(dst, src, len);
  }
  dst[len] = '\0';
  return len;
}

void glc_set_error(const char *msg, size_t len) {
  struct thread_state *s = state(msg != NULL && len > 0);
  if (s != NULL) s->err_len = store(s->err, ERR_CAP, msg, len);
}

void glc_set_run(int backend, int device, const char *engine, size_t engine_len, const char *note,
                 size_t note_len) {
  struct thread_state *s = state(1);
  if (s == NULL) return;
  s->run_valid = 1;
  s->run_backend = backend;
  s->run_device = device;
  store(s->engine, NAME_CAP, engine, engine_len);
  store(s->note, NOTE_CAP, note, note_len);
}

void glc_clear_run(void) {
  struct thread_state *s = state(0);
  if (s == NULL) return;
  s->run_valid = 0;
  s->engine[0] = '\0';
  s->note[0] = '\0';
}

int glc_call_progress(geomloss_progress_fn fn, const char *stage, int64_t iter, int64_t total,
                      void *user_data) {
  return fn(stage, iter, total, user_data);
}

GLC_API const char *geomloss_version(void) { return GEOMLOSS_VERSION_STRING; }

GLC_API int geomloss_version_number(void) { return GEOMLOSS_VERSION_NUMBER; }

GLC_API const char *geomloss_last_error(void) {
  struct thread_state *s = state(0);
  return s != NULL ? s->err : "";
}

GLC_API size_t geomloss_last_error_copy(char *buf, size_t size) {
  struct thread_state *s = state(0);
  size_t len = s != NULL ? s->err_len : 0;
  if (buf != NULL && size > 0) {
    size_t n = len < size - 1 ? len : size - 1;
    if (n > 0) memcpy(buf, s->err, n);
    buf[n] = '\0';
  }
  return len;
}

GLC_API int geomloss_last_backend(void) {
  struct thread_state *s = state(0);
  return s != NULL && s->run_valid ? s->run_backend : -1;
}

GLC_API int geomloss_last_device(void) {
  struct thread_state *s = state(0);
  return s != NULL && s->run_valid ? s->run_device : -1;
}

GLC_API const char *geomloss_last_engine(void) {
  struct thread_state *s = state(0);
  return s != NULL ? s->engine : "";
}

GLC_API const char *geomloss_last_note(void) {
  struct thread_state *s = state(0);
  return s != NULL ? s->note : "";
}

GLC_API const char *geomloss_status_string(int status) {
  const int n = (int)(sizeof glc_status_strings / sizeof glc_status_strings[0]);
  if (status < 0 || status >= n || glc_status_strings[status] == NULL) return "unknown status";
  return glc_status_strings[status];
}

GLC_API const char *geomloss_value_name(int key, int value) { return glc_value_name(key, value); }
