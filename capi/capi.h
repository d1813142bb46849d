/* Private to the capi package: the layouts of geomloss_options and
 * geomloss_buffers (completing the opaque types of the public header) and
 * the C helpers of state.c. Not installed. This file is included by the cgo
 * preamble of main.go, which is also compiled into _cgo_export.c, so it holds
 * declarations only. */
#ifndef GEOMLOSS_CAPI_H
#define GEOMLOSS_CAPI_H

#include <stddef.h>
#include <stdint.h>

#include "geomloss.h"

#define GLC_HIDDEN __attribute__((visibility("hidden")))

/* "GEOMLOSS" in ASCII: marks a live options object. */
#define GLC_OPTIONS_MAGIC UINT64_C(0x47454f4d4c4f5353)
/* "GLBUFFER" in ASCII: marks a live buffers object. */
#define GLC_BUFFERS_MAGIC UINT64_C(0x474c425546464552)

struct geomloss_options {
  uint64_t magic;
  int32_t loss, p, debias, backend, device;
  int32_t blur_set; /* GEOMLOSS_OPT_BLUR was set (the grid entries' default is the pixel width) */
  int64_t threads;
  double blur, reach, diameter, scaling, truncate, cluster_scale;
  /* tol, max_iter (Sinkhorn's stopping rule) and the OT solver's options. */
  int32_t cost, reserved_ot;
  int64_t max_iter;
  double tol, reg, unbalanced, q;
  /* The grid entries' own options (GEOMLOSS_OPT_SINGLE_SCALE, _GRID_TOL). */
  int32_t single_scale, reserved_grid;
  double grid_tol;
  geomloss_progress_fn progress;
  void *user_data;
};

/* One slot per key of the input and output ranges; ptr NULL: not set. */
struct glc_buffer {
  void *ptr;
  int64_t count;
};
struct geomloss_buffers {
  uint64_t magic;
  struct glc_buffer slot[GEOMLOSS_BUF_LATER_BEGIN];
};

/* Thread-local state (state.c). Lengths exclude any NUL; strings need not be
 * NUL-terminated; long ones are truncated. */
GLC_HIDDEN void glc_set_error(const char *msg, size_t len);
GLC_HIDDEN void glc_set_run(int backend, int device, const char *engine, size_t engine_len,
                            const char *note, size_t note_len);
GLC_HIDDEN void glc_clear_run(void);
GLC_HIDDEN int glc_call_progress(geomloss_progress_fn fn, const char *stage, int64_t iter,
                                 int64_t total, void *user_data);

#endif
