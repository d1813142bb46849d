/* The parts of the C ABI that are plain C: per-thread error and last-run
 * state (Go has no thread-local storage; the exported Go functions run on the
 * caller's thread, so they store into it through these helpers), static
 * strings, and the call through a progress function pointer. */
#include <string.h>

#include "capi.h"

#define GLC_API __attribute__((visibility("default")))

#define ERR_CAP 4096
#define NAME_CAP 256
#define NOTE_CAP 1024

static _Thread_local char err_buf[ERR_CAP];
static _Thread_local size_t err_len;
static _Thread_local int run_valid;
static _Thread_local int run_backend, run_device;
static _Thread_local char run_engine[NAME_CAP];
static _Thread_local char run_note[NOTE_CAP];

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

void glc_set_error(const char *msg, size_t len) { err_len = store(err_buf, ERR_CAP, msg, len); }

void glc_set_run(int backend, int device, const char *engine, size_t engine_len, const char *note,
                 size_t note_len) {
  run_valid = 1;
  run_backend = backend;
  run_device = device;
  store(run_engine, NAME_CAP, engine, engine_len);
  store(run_note, NOTE_CAP, note, note_len);
}

void glc_clear_run(void) {
  run_valid = 0;
  run_engine[0] = '\0';
  run_note[0] = '\0';
}

int glc_call_progress(geomloss_progress_fn fn, const char *stage, int64_t iter, int64_t total,
                      void *user_data) {
  return fn(stage, iter, total, user_data);
}

GLC_API const char *geomloss_version(void) { return "0.1.0"; }

GLC_API int geomloss_version_number(void) { return 100; }

GLC_API const char *geomloss_last_error(void) { return err_buf; }

GLC_API size_t geomloss_last_error_copy(char *buf, size_t size) {
  if (buf != NULL && size > 0) {
    size_t n = err_len < size - 1 ? err_len : size - 1;
    memcpy(buf, err_buf, n);
    buf[n] = '\0';
  }
  return err_len;
}

GLC_API int geomloss_last_backend(void) { return run_valid ? run_backend : -1; }

GLC_API int geomloss_last_device(void) { return run_valid ? run_device : -1; }

GLC_API const char *geomloss_last_engine(void) { return run_engine; }

GLC_API const char *geomloss_last_note(void) { return run_note; }

GLC_API const char *geomloss_status_string(int status) {
  static const char *const names[] = {
      "ok",                 /* GEOMLOSS_OK */
      "invalid argument",   /* GEOMLOSS_ERR_INVALID_ARGUMENT */
      "invalid option",     /* GEOMLOSS_ERR_INVALID_OPTION */
      "shape mismatch",     /* GEOMLOSS_ERR_SHAPE */
      "invalid value",      /* GEOMLOSS_ERR_VALUE */
      "out of memory or over a memory cap", /* GEOMLOSS_ERR_MEMORY */
      "unsupported",        /* GEOMLOSS_ERR_UNSUPPORTED */
      "internal error",     /* GEOMLOSS_ERR_INTERNAL */
      "null pointer",       /* GEOMLOSS_ERR_NULL_POINTER */
      "invalid size",       /* GEOMLOSS_ERR_SIZE */
  };
  if (status < 0 || status >= (int)(sizeof names / sizeof names[0])) return "unknown status";
  return names[status];
}

GLC_API const char *geomloss_value_name(int key, int value) {
  static const char *const losses[] = {NULL, "sinkhorn", "hausdorff", "energy", "gaussian",
                                       "laplacian"};
  static const char *const backends[] = {"auto", "tensorized", "online", "multiscale"};
  static const char *const devices[] = {"auto", "cpu", "gpu"};
  const char *const *names;
  int n;
  switch (key) {
  case 1: /* GEOMLOSS_OPT_LOSS */
    names = losses, n = 6;
    break;
  case 10: /* GEOMLOSS_OPT_BACKEND */
    names = backends, n = 4;
    break;
  case 12: /* GEOMLOSS_OPT_DEVICE */
    names = devices, n = 3;
    break;
  default:
    return NULL;
  }
  if (value < 0 || value >= n) return NULL;
  return names[value];
}
