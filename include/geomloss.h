/*
 * geomloss.h — the C ABI of libgeomloss.
 *
 * libgeomloss computes geometric losses between weighted point clouds, as
 * GeomLoss's SamplesLoss does: Sinkhorn divergences, Hausdorff divergences and
 * kernel norms (energy, gaussian, laplacian MMDs), with their gradients, in
 * float32 or float64.
 *
 *     geomloss_options *opt = geomloss_options_create();
 *     geomloss_options_set_double(opt, GEOMLOSS_OPT_BLUR, 0.01);
 *     double value;
 *     int st = geomloss_eval_f64(opt, 1, n, m, 3, x, y, NULL, NULL,
 *                                NULL, NULL, NULL,
 *                                &value, NULL, NULL, grad_x, NULL, NULL, NULL);
 *     if (st != GEOMLOSS_OK) fprintf(stderr, "%s\n", geomloss_last_error());
 *
 * or, with keyed buffers (the interface that grows):
 *
 *     geomloss_buffers *bufs = geomloss_buffers_create();
 *     geomloss_buffers_set(bufs, GEOMLOSS_BUF_X, x, n * 3);
 *     geomloss_buffers_set(bufs, GEOMLOSS_BUF_Y, y, m * 3);
 *     geomloss_buffers_set(bufs, GEOMLOSS_BUF_VALUE, &value, 1);
 *     geomloss_buffers_set(bufs, GEOMLOSS_BUF_GRAD_X, grad_x, n * 3);
 *     st = geomloss_eval(opt, GEOMLOSS_F64, 1, n, m, 3, bufs);
 *     geomloss_buffers_destroy(bufs);
 *     geomloss_options_destroy(opt);
 *
 * API
 *   Only the functions, types and macros named geomloss_* / GEOMLOSS_* in this
 *   header are the API. The Linux build exports no other dynamic symbol (a
 *   version script hides the C symbols of the Go runtime it embeds, such as
 *   _cgo_* and x_cgo_*); should a build on another platform expose such
 *   symbols, they are not part of the API and must not be used.
 *   Within a major version (SONAME libgeomloss.so.<major>) the ABI only grows:
 *   functions, option keys, enum values and status codes are added, never
 *   changed or removed. Options are set through an opaque object with
 *   enum-keyed setters, so new options never change a struct layout.
 *
 * Memory ownership
 *   - Every array is owned by the caller. The library never frees, resizes or
 *     keeps a pointer to a caller's array after a call returns, except the
 *     pointers a geomloss_buffers object holds until they are replaced or it
 *     is destroyed (it reads the arrays only during geomloss_eval).
 *   - Inputs (x, y, a, b, cotangents) are read only, never written.
 *   - Outputs are written only when the call returns GEOMLOSS_OK; on any error
 *     they are left untouched. Output arrays must not overlap each other or
 *     the inputs.
 *   - Arrays are dense, row-major (C order), of the element type of the
 *     call (float for _f32 and GEOMLOSS_F32, double for _f64 and
 *     GEOMLOSS_F64), with the lengths documented
 *     below. Pointers need only the natural alignment of their element type.
 *   - A geomloss_options object is created by geomloss_options_create() or
 *     geomloss_options_clone() and must be released with
 *     geomloss_options_destroy(); a geomloss_buffers object is created by
 *     geomloss_buffers_create() and released with geomloss_buffers_destroy().
 *     No other function allocates anything the caller must release.
 *   - Strings returned by the library (const char *) are owned by the library;
 *     never free them. See each function for how long they stay valid.
 *
 * Thread safety
 *   - Every function may be called from any thread, concurrently, with no
 *     initialisation step.
 *   - The evaluation functions are reentrant: concurrent evaluations on
 *     different threads are independent and give the same results, bit for
 *     bit, as the same evaluations run one after the other.
 *   - A geomloss_options object may be read by any number of threads at once
 *     (e.g. passed to concurrent evaluations), but must not be modified
 *     (set_*, reset, destroy) while another thread uses it.
 *   - The last error message, and the last-run report (backend, device,
 *     engine), are per thread: they describe the last call made on the calling
 *     thread only.
 *
 * Errors
 *   Every function that can fail returns an int status: GEOMLOSS_OK (0) on
 *   success, or one of the geomloss_status codes. geomloss_last_error() then
 *   returns a message naming the argument and the problem, for instance
 *   "y has 4 columns but x has 3". No exception, signal or abort crosses the
 *   boundary: an internal failure returns GEOMLOSS_ERR_INTERNAL.
 *
 * Threads of computation
 *   An evaluation uses up to GEOMLOSS_OPT_THREADS CPU threads (default: all
 *   cores) internally; the number of threads does not change the results. The
 *   progress callback is always called on the thread that called the
 *   evaluation function. The library cannot be unloaded (dlclose is a no-op):
 *   it embeds the Go runtime.
 */
#ifndef GEOMLOSS_H
#define GEOMLOSS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- export macro ------------------------------------------------------ */

#if defined(_WIN32) || defined(__CYGWIN__)
#  if defined(GEOMLOSS_BUILDING)
#    define GEOMLOSS_API __declspec(dllexport)
#  else
#    define GEOMLOSS_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define GEOMLOSS_API __attribute__((visibility("default")))
#else
#  define GEOMLOSS_API
#endif

/* ---- version ------------------------------------------------------------ */

#define GEOMLOSS_VERSION_MAJOR 0
#define GEOMLOSS_VERSION_MINOR 1
#define GEOMLOSS_VERSION_PATCH 0
/* MAJOR*10000 + MINOR*100 + PATCH, e.g. 100 for 0.1.0. */
#define GEOMLOSS_VERSION_NUMBER \
  (GEOMLOSS_VERSION_MAJOR * 10000 + GEOMLOSS_VERSION_MINOR * 100 + GEOMLOSS_VERSION_PATCH)
#define GEOMLOSS_VERSION_STRING "0.1.0"

/* The version of the library actually loaded, as "MAJOR.MINOR.PATCH" (a
 * static string). Compare with GEOMLOSS_VERSION_STRING to detect a header /
 * library mismatch. */
GEOMLOSS_API const char *geomloss_version(void);

/* The version of the library actually loaded, as GEOMLOSS_VERSION_NUMBER. */
GEOMLOSS_API int geomloss_version_number(void);

/* ---- status codes ------------------------------------------------------- */

typedef enum geomloss_status {
  /* "ok" */
  GEOMLOSS_OK = 0,
  /* "invalid argument": a malformed argument not covered by a more precise
   * code (e.g. an options or buffers pointer that is not a live object, an
   * unknown buffer key or element type). */
  GEOMLOSS_ERR_INVALID_ARGUMENT = 1,
  /* "invalid option": an option key, option value or option type that is
   * unknown or out of range (e.g. "blur: must be a positive finite number,
   * got -1"). */
  GEOMLOSS_ERR_INVALID_OPTION = 2,
  /* "shape mismatch": sizes that do not agree with each other (e.g. a buffer
   * whose element count does not fit B, N, M, D: "grad_x has 599 elements,
   * needs 600"). */
  GEOMLOSS_ERR_SHAPE = 3,
  /* "invalid value": bad numbers: non-finite coordinates, weights or
   * cotangents, negative or all-zero weights, unequal total masses for
   * balanced transport. */
  GEOMLOSS_ERR_VALUE = 4,
  /* "out of memory or over a memory cap": the problem exceeds a documented
   * memory cap (e.g. the tensorized backend refuses B*N*M above its cap: use
   * the online backend), or an allocation failed. */
  GEOMLOSS_ERR_MEMORY = 5,
  /* "unsupported": a valid request this build cannot serve (e.g. device = gpu
   * on a build or machine without a usable GPU, a reserved buffer key). */
  GEOMLOSS_ERR_UNSUPPORTED = 6,
  /* "internal error": a bug in the library; the message says where. Please
   * report it. */
  GEOMLOSS_ERR_INTERNAL = 7,
  /* "null pointer": a required pointer is NULL (the message names it). */
  GEOMLOSS_ERR_NULL_POINTER = 8,
  /* "invalid size": a size is <= 0, or a product of sizes (B*N*D, B*M*D, ...)
   * overflows, or a buffer count is negative. */
  GEOMLOSS_ERR_SIZE = 9,
  /* "cancelled": the progress callback returned non-zero. */
  GEOMLOSS_ERR_CANCELLED = 10,
  /* "device failure": a device (GPU) failed: launch failure, lost context,
   * driver error. */
  GEOMLOSS_ERR_DEVICE = 11
} geomloss_status;

/* A static English description of a status code, e.g. "null pointer"; for an
 * unknown code, "unknown status". Never NULL. */
GEOMLOSS_API const char *geomloss_status_string(int status);

/* The message of the last failed call made on the calling thread, or "" if
 * the last call succeeded (or no call was made). Every function returning a
 * status, and geomloss_options_create/_clone, set it. The string is owned by
 * the library and stays valid until the next such call on the same thread.
 * Never NULL. */
GEOMLOSS_API const char *geomloss_last_error(void);

/* Copies the last error message of the calling thread (as geomloss_last_error)
 * into buf, truncated to size-1 bytes and always NUL-terminated when
 * size > 0. buf may be NULL when size is 0. Returns the full length of the
 * message (excluding the NUL), as snprintf does. Does not change the last
 * error. */
GEOMLOSS_API size_t geomloss_last_error_copy(char *buf, size_t size);

/* ---- enumerations --------------------------------------------------------- */

/* GEOMLOSS_OPT_LOSS values (GeomLoss's loss names). */
typedef enum geomloss_loss {
  GEOMLOSS_LOSS_SINKHORN = 1,  /* (debiased) entropic optimal transport */
  GEOMLOSS_LOSS_HAUSDORFF = 2, /* entropic Hausdorff divergence, balanced only */
  GEOMLOSS_LOSS_ENERGY = 3,    /* energy distance, k(x,y) = -|x-y| */
  GEOMLOSS_LOSS_GAUSSIAN = 4,  /* gaussian MMD, k = exp(-|x-y|^2 / (2 blur^2)) */
  GEOMLOSS_LOSS_LAPLACIAN = 5  /* laplacian MMD, k = exp(-|x-y| / blur) */
} geomloss_loss;

/* GEOMLOSS_OPT_BACKEND values. */
typedef enum geomloss_backend {
  GEOMLOSS_BACKEND_AUTO = 0,       /* the fastest exact backend for the engine: online
                                      on the CPU engines, multiscale for 3D p=2 sinkhorn
                                      with N*M > 10000^2 (docs/c.md) */
  GEOMLOSS_BACKEND_TENSORIZED = 1, /* dense cost matrices (memory-capped) */
  GEOMLOSS_BACKEND_ONLINE = 2,     /* streaming reductions, memory O(N+M) */
  GEOMLOSS_BACKEND_MULTISCALE = 3  /* Taylor level, then octree blocks with bounded truncation */
} geomloss_backend;

/* GEOMLOSS_OPT_DEVICE values. */
typedef enum geomloss_device {
  GEOMLOSS_DEVICE_AUTO = 0, /* the GPU when available and useful, else the CPU */
  GEOMLOSS_DEVICE_CPU = 1,
  GEOMLOSS_DEVICE_GPU = 2 /* GEOMLOSS_ERR_UNSUPPORTED at evaluation when this
                             build or machine has no usable GPU */
} geomloss_device;

/* GEOMLOSS_OPT_COST values: the ground costs of the OT solver (GeomLoss
 * 0.3.1's geomloss.ot, whose squared cost has no 1/2). */
typedef enum geomloss_cost {
  GEOMLOSS_COST_SQEUCLIDEAN = 0,    /* C = |x-y|^2 (the default) */
  GEOMLOSS_COST_EUCLIDEAN = 1,      /* C = |x-y| */
  GEOMLOSS_COST_HALFSQEUCLIDEAN = 2, /* C = |x-y|^2/2, SamplesLoss's p = 2 cost */
  GEOMLOSS_COST_POWER = 3            /* C = |x-y|^q/q, q = GEOMLOSS_OPT_Q >= 1; q = 1 and 2
                                        run as euclidean and halfsqeuclidean, any other q
                                        on the portable code (the last-run note says so) */
} geomloss_cost;

/* The name of an enumerated option value: geomloss_value_name(GEOMLOSS_OPT_LOSS,
 * GEOMLOSS_LOSS_SINKHORN) is "sinkhorn"; the names are the strings accepted by
 * geomloss_options_set_string. key is GEOMLOSS_OPT_LOSS, GEOMLOSS_OPT_BACKEND,
 * GEOMLOSS_OPT_DEVICE or GEOMLOSS_OPT_COST. Returns a static string, or NULL for an unknown key
 * or value. */
GEOMLOSS_API const char *geomloss_value_name(int key, int value);

/* ---- options -------------------------------------------------------------- */

/* Keys of the options object. The type in brackets says which setter/getter
 * applies; using another type's setter returns GEOMLOSS_ERR_INVALID_OPTION.
 * Defaults are GeomLoss's SamplesLoss defaults. */
typedef enum geomloss_option {
  /* [int, or string] geomloss_loss. Default sinkhorn. */
  GEOMLOSS_OPT_LOSS = 1,
  /* [int] ground-cost exponent, 1 (|x-y|) or 2 (|x-y|^2/2). Default 2.
   * Used by sinkhorn and hausdorff. */
  GEOMLOSS_OPT_P = 2,
  /* [double] > 0, finite. Sinkhorn/hausdorff: temperature eps = blur^p;
   * gaussian/laplacian: kernel width. Default 0.05. */
  GEOMLOSS_OPT_BLUR = 3,
  /* [double] unbalanced transport, rho = reach^p; > 0. 0 or +INFINITY means
   * None: balanced transport (the default). Not allowed with hausdorff. */
  GEOMLOSS_OPT_REACH = 4,
  /* [double] > 0, finite, an upper bound on the clouds' extent; 0 means None:
   * estimated from the data (the default). */
  GEOMLOSS_OPT_DIAMETER = 5,
  /* [double] ratio between successive blurs of the eps-scaling schedule, in
   * (0, 1). Default 0.5. */
  GEOMLOSS_OPT_SCALING = 6,
  /* [double] > 0, multiscale truncation in units of blur; +INFINITY means None:
   * no truncation. Default 5. */
  GEOMLOSS_OPT_TRUNCATE = 7,
  /* [double] >= 0, finite, multiscale voxel size; 0 means None: the default
   * (the default). */
  GEOMLOSS_OPT_CLUSTER_SCALE = 8,
  /* [int] 1: Sinkhorn divergence (debiased, the default); 0: raw entropic OT. */
  GEOMLOSS_OPT_DEBIAS = 9,
  /* [int, or string] geomloss_backend. Default auto. */
  GEOMLOSS_OPT_BACKEND = 10,
  /* [int] in [0, 65536], the most CPU threads one evaluation uses; 0 means
   * all cores (the default). Values outside the range are refused with
   * GEOMLOSS_ERR_INVALID_OPTION. Does not change results. */
  GEOMLOSS_OPT_THREADS = 11,
  /* [int, or string] geomloss_device. Default auto. */
  GEOMLOSS_OPT_DEVICE = 12,
  /* [double] >= 0, finite. Sinkhorn only: after the eps-scaling schedule,
   * keep iterating at the final eps until the marginal error (balanced:
   * |pi 1 - a|_1 + |pi^T 1 - b|_1; unbalanced: the dual change in units of
   * eps) is below tol, or GEOMLOSS_OPT_MAX_ITER more iterations have run.
   * 0 means None: GeomLoss's fixed schedule (the default). Read by
   * geomloss_eval and the OT solver. */
  GEOMLOSS_OPT_TOL = 13,
  /* [int] >= 0, the most iterations added by GEOMLOSS_OPT_TOL; 0 means the
   * default (10000). */
  GEOMLOSS_OPT_MAX_ITER = 14,
  /* [int, or string] geomloss_cost, the ground cost of the OT solver
   * (geomloss_ot_solve_sample). Default sqeuclidean. */
  GEOMLOSS_OPT_COST = 15,
  /* [double] >= 0, finite: the OT solver's entropic temperature eps, in
   * units of the cost; 0 means None: eps = s*blur^q for the cost s|x-y|^q
   * (sqeuclidean: 2 blur^2, euclidean: blur; the default). Required (> 0)
   * by geomloss_ot_solve. */
  GEOMLOSS_OPT_REG = 16,
  /* [double] >= 0: the OT solver's KL marginal penalty rho, in units of the
   * cost; 0 means None: from GEOMLOSS_OPT_REACH (rho = s*reach^q), else
   * balanced (the default); +INFINITY means balanced. */
  GEOMLOSS_OPT_UNBALANCED = 17,
  /* [double] >= 0, finite: the exponent q of GEOMLOSS_COST_POWER, C = |x-y|^q/q,
   * q >= 1 (eps = blur^q, rho = reach^q); 0 means None: unset (the default),
   * which the power cost refuses and the other costs require. */
  GEOMLOSS_OPT_Q = 18,
  /* [int] grids only (geomloss_eval_grid): 1 runs every Sinkhorn iteration
   * at full resolution (no coarse-to-fine pyramid; slower, and the oracle
   * that agrees with the point-cloud solver on the pixel centres); 0 uses
   * the pyramid (the default, GeomLoss's behaviour). */
  GEOMLOSS_OPT_SINGLE_SCALE = 19,
  /* [double] in [0, 1), grids only: the error bound of one separable
   * log-sum-exp pass, whose terms more than ln n + ln(1/tol) below a row's
   * largest are skipped (the fast truncated passes); 0 means the default
   * (1e-8 in float32, 1e-16 in float64). Grids have no tolerance-based
   * stopping: they run GeomLoss's fixed schedule, and GEOMLOSS_OPT_TOL > 0
   * is refused by geomloss_eval_grid. */
  GEOMLOSS_OPT_GRID_TOL = 20
} geomloss_option;

/* An opaque set of options. */
typedef struct geomloss_options geomloss_options;

/* Progress callback: called during evaluations with a stage name (e.g.
 * "sinkhorn"; valid only during the call), the current iteration and the
 * total expected (total may be 0 when unknown), and the user_data given to
 * geomloss_options_set_progress. It is called on the thread that called the
 * evaluation function, one call at a time within an evaluation, and never
 * after the evaluation returns (concurrent evaluations sharing one options
 * object call it concurrently, each on its own thread). While a long step
 * runs, the latest report is repeated at least every 100 ms (a heartbeat), so
 * that the callback can cancel promptly; a caller printing progress should
 * skip repeated reports. It must not call the evaluation functions itself;
 * other geomloss_* functions are fine.
 *
 * Return 0 to continue. A non-zero return cancels the evaluation: it stops
 * within about one heartbeat and returns GEOMLOSS_ERR_CANCELLED, outputs
 * untouched, and the callback is not called again during that evaluation. */
typedef int (*geomloss_progress_fn)(const char *stage, int64_t iter, int64_t total,
                                    void *user_data);

/* A new options object holding the defaults, or NULL if out of memory (then
 * geomloss_last_error() says so). Release it with geomloss_options_destroy. */
GEOMLOSS_API geomloss_options *geomloss_options_create(void);

/* A new options object with the same settings as opts (progress callback and
 * user data included), or NULL if opts is NULL or invalid, or out of memory
 * (geomloss_last_error() says which). */
GEOMLOSS_API geomloss_options *geomloss_options_clone(const geomloss_options *opts);

/* Releases opts. NULL is a no-op. Using opts afterwards is undefined. */
GEOMLOSS_API void geomloss_options_destroy(geomloss_options *opts);

/* Sets an [int] option. Returns GEOMLOSS_OK, GEOMLOSS_ERR_NULL_POINTER, or
 * GEOMLOSS_ERR_INVALID_OPTION (unknown key, not an int key, value out of
 * range); on error opts is unchanged. */
GEOMLOSS_API int geomloss_options_set_int(geomloss_options *opts, int key, int64_t value);

/* Sets a [double] option; same statuses as geomloss_options_set_int. NaN is
 * always rejected. */
GEOMLOSS_API int geomloss_options_set_double(geomloss_options *opts, int key, double value);

/* Sets an enumerated option (GEOMLOSS_OPT_LOSS, _BACKEND, _DEVICE, _COST) by
 * name: the GeomLoss names "sinkhorn", "hausdorff", "energy", "gaussian",
 * "laplacian"; "auto", "tensorized", "online", "multiscale"; "auto", "cpu",
 * "gpu"; "sqeuclidean", "euclidean", "halfsqeuclidean", "power". Case-sensitive. Same statuses as geomloss_options_set_int, plus
 * GEOMLOSS_ERR_NULL_POINTER if value is NULL. */
GEOMLOSS_API int geomloss_options_set_string(geomloss_options *opts, int key, const char *value);

/* Reads an [int] option into *value. Returns GEOMLOSS_OK,
 * GEOMLOSS_ERR_NULL_POINTER or GEOMLOSS_ERR_INVALID_OPTION. */
GEOMLOSS_API int geomloss_options_get_int(const geomloss_options *opts, int key, int64_t *value);

/* Reads a [double] option into *value (0 or +INFINITY for the None values
 * documented above, as set). Same statuses as geomloss_options_get_int. */
GEOMLOSS_API int geomloss_options_get_double(const geomloss_options *opts, int key,
                                             double *value);

/* Restores one option to its default; key 0 restores every option, the
 * progress callback included. */
GEOMLOSS_API int geomloss_options_reset(geomloss_options *opts, int key);

/* Sets the progress callback and its user data (passed back unchanged, never
 * dereferenced). fn = NULL removes it (silent, the default). */
GEOMLOSS_API int geomloss_options_set_progress(geomloss_options *opts, geomloss_progress_fn fn,
                                               void *user_data);

/* ---- evaluation ------------------------------------------------------------ */

/* Element types of the floating-point buffers of geomloss_eval. */
typedef enum geomloss_dtype {
  GEOMLOSS_F32 = 1, /* float, computed in single precision */
  GEOMLOSS_F64 = 2  /* double, computed in double precision */
} geomloss_dtype;

/* Keys of the arrays of an evaluation (geomloss_buffers_set). Each key names
 * one caller-owned array; its length in elements, given as count, must be
 * exactly the one below for the sizes B, N, M, D of the evaluation, and its
 * element type the dtype of the call (float or double; the labels are
 * int64_t whatever the dtype). The key ranges are part of the ABI:
 *     1 ..  99  inputs, read only; 8 and 9 (GEOMLOSS_BUF_LABELS_X, _Y) are
 *               the cluster labels of the multiscale backend, int64_t;
 *               20 .. 39 are the inputs of the OT solver only;
 *   100 .. 199  outputs, written only on success; 120 .. 149 are the
 *               outputs of the OT solver only (geomloss_ot_solve_sample);
 *   200 ..      later additions (e.g. device pointers).
 * Setting a positive key this version does not define returns
 * GEOMLOSS_ERR_UNSUPPORTED (it belongs to a later version); a key <= 0
 * returns GEOMLOSS_ERR_INVALID_ARGUMENT. The names quoted are those of the
 * error messages. */
#define GEOMLOSS_BUF_INPUTS_BEGIN 1
#define GEOMLOSS_BUF_OUTPUTS_BEGIN 100
#define GEOMLOSS_BUF_LATER_BEGIN 200
typedef enum geomloss_buffer_key {
  /* "x": [B][N][D] points of the first clouds (required). */
  GEOMLOSS_BUF_X = 1,
  /* "y": [B][M][D] points of the second clouds (required). */
  GEOMLOSS_BUF_Y = 2,
  /* "a": [B][N] weights of x; not set: uniform weights 1/N. */
  GEOMLOSS_BUF_A = 3,
  /* "b": [B][M] weights of y; not set: uniform weights 1/M. */
  GEOMLOSS_BUF_B = 4,
  /* "cot_value": [B] cotangent of each value; not set: ones. */
  GEOMLOSS_BUF_COT_VALUE = 5,
  /* "cot_F": [B][N] cotangent of F; not set: zeros. */
  GEOMLOSS_BUF_COT_F = 6,
  /* "cot_G": [B][M] cotangent of G; not set: zeros. */
  GEOMLOSS_BUF_COT_G = 7,
  /* "labels_x": [B][N] int64_t cluster labels of x (whatever the dtype; any
   * integers, equal labels in one item forming a cluster; set with
   * labels_y, or neither; they select the multiscale backend, so backend
   * auto or multiscale); not set: the backend's own clustering. */
  GEOMLOSS_BUF_LABELS_X = 8,
  /* "labels_y": [B][M] int64_t cluster labels of y (as labels_x). */
  GEOMLOSS_BUF_LABELS_Y = 9,
  /* "value": [B] the loss of each batch item (required). */
  GEOMLOSS_BUF_VALUE = 100,
  /* "F": [B][N] the dual potential on x; not set: not computed. */
  GEOMLOSS_BUF_F = 101,
  /* "G": [B][M] the dual potential on y; not set: not computed. */
  GEOMLOSS_BUF_G = 102,
  /* "grad_x": [B][N][D] gradient of S w.r.t. x; not set: not computed. */
  GEOMLOSS_BUF_GRAD_X = 103,
  /* "grad_y": [B][M][D] gradient of S w.r.t. y; not set: not computed. */
  GEOMLOSS_BUF_GRAD_Y = 104,
  /* "grad_a": [B][N] gradient of S w.r.t. a; not set: not computed. */
  GEOMLOSS_BUF_GRAD_A = 105,
  /* "grad_b": [B][M] gradient of S w.r.t. b; not set: not computed. */
  GEOMLOSS_BUF_GRAD_B = 106,
  /* OT solver (geomloss_ot_solve_sample, geomloss_ot_solve: B = 1; their
   * _batch variants: B problems). K and L are the column counts of v and u,
   * read from their counts (B*M*K and B*N*L). */
  /* "c": [B][N][M] the cost matrix of geomloss_ot_solve (required there). */
  GEOMLOSS_BUF_C = 20,
  /* "v": [B][M][K] a matrix to multiply by the plan (with plan_v). */
  GEOMLOSS_BUF_V = 21,
  /* "u": [B][N][L] a matrix to multiply by the transposed plan (with plan_t_u). */
  GEOMLOSS_BUF_U = 22,
  /* "value_linear": [B] the linear cost <pi, C>. */
  GEOMLOSS_BUF_VALUE_LINEAR = 120,
  /* "F_aa": [B][N] the self potential on x (debias only). */
  GEOMLOSS_BUF_F_AA = 121,
  /* "G_bb": [B][M] the self potential on y (debias only). */
  GEOMLOSS_BUF_G_BB = 122,
  /* "marginal_a": [B][N] the plan's first marginal pi 1. */
  GEOMLOSS_BUF_MARGINAL_A = 123,
  /* "marginal_b": [B][M] the plan's second marginal pi^T 1. */
  GEOMLOSS_BUF_MARGINAL_B = 124,
  /* "a_to_b": [B][N][D] the barycentric map (pi y)_i / (pi 1)_i. */
  GEOMLOSS_BUF_A_TO_B = 125,
  /* "b_to_a": [B][M][D] the barycentric map (pi^T x)_j / (pi^T 1)_j. */
  GEOMLOSS_BUF_B_TO_A = 126,
  /* "plan_v": [B][N][K] the product pi v (needs v). */
  GEOMLOSS_BUF_PLAN_V = 127,
  /* "plan_t_u": [B][M][L] the product pi^T u (needs u). */
  GEOMLOSS_BUF_PLAN_T_U = 128,
  /* "plan": [B][N][M] the dense plan pi (GEOMLOSS_ERR_MEMORY over N*M = 2^26). */
  GEOMLOSS_BUF_PLAN = 129,
  /* "n_iter": [B] the Sinkhorn iterations run (a whole number). */
  GEOMLOSS_BUF_N_ITER = 130,
  /* "marginal_error": [B] the marginal error of the plan (see GEOMLOSS_OPT_TOL). */
  GEOMLOSS_BUF_MARGINAL_ERROR = 131,
  /* "value_grad_x": [B][N][D] the gradient of value w.r.t. x at fixed weights,
   * sum_j pi_ij grad_1 C(x_i, y_j) (the envelope theorem; points, debias = 0). */
  GEOMLOSS_BUF_VALUE_GRAD_X = 132,
  /* "value_grad_y": [B][M][D] the gradient of value w.r.t. y, sum_i pi_ij grad_1 C(y_j, x_i). */
  GEOMLOSS_BUF_VALUE_GRAD_Y = 133
} geomloss_buffer_key;

/* An opaque set of keyed arrays: pointers and element counts, never the data
 * (the arrays stay the caller's). Like geomloss_options, it may be read by
 * concurrent evaluations but must not be modified (set, destroy) while one
 * uses it. */
typedef struct geomloss_buffers geomloss_buffers;

/* A new, empty set of buffers, or NULL if out of memory (then
 * geomloss_last_error() says so). Release it with geomloss_buffers_destroy. */
GEOMLOSS_API geomloss_buffers *geomloss_buffers_create(void);

/* Releases bufs (not the arrays). NULL is a no-op. */
GEOMLOSS_API void geomloss_buffers_destroy(geomloss_buffers *bufs);

/* Sets the array of key to ptr, holding count elements (not bytes), replacing
 * any previous one; ptr = NULL removes it (count is then ignored). The count
 * is checked against the sizes at evaluation. Returns GEOMLOSS_OK,
 * GEOMLOSS_ERR_NULL_POINTER (bufs), GEOMLOSS_ERR_INVALID_ARGUMENT (bufs not
 * a live object, key <= 0), GEOMLOSS_ERR_UNSUPPORTED (a key of a later
 * version) or GEOMLOSS_ERR_SIZE (count < 0); on error bufs is unchanged. */
GEOMLOSS_API int geomloss_buffers_set(geomloss_buffers *bufs, int key, void *ptr, int64_t count);

/* Computes the loss between B independent pairs of weighted point clouds and
 * the outputs whose buffers are set (see geomloss_buffer_key).
 *
 *   opts        options, or NULL for the defaults (not modified).
 *   dtype       GEOMLOSS_F32 or GEOMLOSS_F64: the element type of every
 *               buffer, and the precision of the computation.
 *   B, N, M, D  batch size, points in x, points in y, dimension; each >= 1.
 *   bufs        the arrays (required; not modified).
 *
 * Gradients are those of
 *     S = sum_b cot_value[b]*value[b] + sum cot_F*F + sum cot_G*G.
 * Sinkhorn and hausdorff need non-negative weights (some may be zero), not
 * all zero; balanced transport needs equal total masses per batch item (1e-3
 * relative). Kernel losses accept signed weights.
 *
 * Returns GEOMLOSS_OK, or an error status with geomloss_last_error() set:
 * NULL_POINTER (bufs is NULL, or x, y or value is not set), INVALID_ARGUMENT
 * (opts or bufs is not a live object, unknown dtype), SIZE, SHAPE (a count
 * that does not fit the sizes, naming the buffer: "grad_x has 599 elements,
 * needs 600 (B×N×D = 1×200×3)"), VALUE, INVALID_OPTION (including rules that
 * combine options, e.g. hausdorff with a reach), MEMORY (e.g. the tensorized
 * backend's cap), UNSUPPORTED (e.g. device gpu without a GPU), CANCELLED (the
 * progress callback returned non-zero), DEVICE, INTERNAL. On any error no
 * output is written. On success the calling thread's last-run report
 * (geomloss_last_backend, ...) describes the run; on error it is cleared. */
GEOMLOSS_API int geomloss_eval(const geomloss_options *opts, int dtype, int64_t B, int64_t N,
                               int64_t M, int64_t D, const geomloss_buffers *bufs);

/* geomloss_eval_f32 and geomloss_eval_f64 are geomloss_eval with the 14
 * arrays passed positionally: each pointer is the buffer of the key of the
 * same name, with the count its key documents (NULL: not set). They give the
 * same results, bit for bit, and the same statuses:
 *
 *   x, y, a, b               GEOMLOSS_BUF_X, _Y, _A, _B        (inputs)
 *   cot_value, cot_F, cot_G  GEOMLOSS_BUF_COT_VALUE, _COT_F, _COT_G
 *   value, F, G              GEOMLOSS_BUF_VALUE, _F, _G        (outputs)
 *   grad_x, grad_y, grad_a, grad_b   GEOMLOSS_BUF_GRAD_X, ... _GRAD_B
 *
 * These two functions stay as they are; new inputs and outputs are added as
 * buffer keys of geomloss_eval only. */
GEOMLOSS_API int geomloss_eval_f32(const geomloss_options *opts, int64_t B, int64_t N, int64_t M,
                                   int64_t D, const float *x, const float *y, const float *a,
                                   const float *b, const float *cot_value, const float *cot_F,
                                   const float *cot_G, float *value, float *F, float *G,
                                   float *grad_x, float *grad_y, float *grad_a, float *grad_b);

/* As geomloss_eval_f32, in double precision. */
GEOMLOSS_API int geomloss_eval_f64(const geomloss_options *opts, int64_t B, int64_t N, int64_t M,
                                   int64_t D, const double *x, const double *y, const double *a,
                                   const double *b, const double *cot_value, const double *cot_F,
                                   const double *cot_G, double *value, double *F, double *G,
                                   double *grad_x, double *grad_y, double *grad_a,
                                   double *grad_b);

/* ---- optimal transport (GeomLoss 0.3.1's geomloss.ot) ------------------------ */

/* Solves the entropic optimal transport problem between the N points x
 * (weights a) and the M points y (weights b) in dimension D, as GeomLoss's
 * ot.solve_sample, with the outputs whose buffers are set. The plan is
 *     pi_ij = a_i b_j exp((F_i + G_j - C_ij) / eps),
 * applied without storing it: plan_v = pi v, plan_t_u = pi^T u and the
 * barycentric maps are streaming reductions; only "plan" is dense.
 *
 *   opts      options, or NULL for the defaults (not modified). Read:
 *             GEOMLOSS_OPT_COST, _Q, _REG (0: from _BLUR), _UNBALANCED (0: from
 *             _REACH), _DEBIAS (its default is 1, SamplesLoss's: set 0 for
 *             GeomLoss's solve_sample default, the raw OT problem), _TOL,
 *             _MAX_ITER, _SCALING, _DIAMETER, _BACKEND (auto, online,
 *             tensorized, or multiscale for the euclidean and squared costs:
 *             the plan's outputs then reduce over the block pairs the final
 *             potentials keep, at the default truncation, and the last-run
 *             note says so with the mass each row may drop), _THREADS, _DEVICE
 *             and the progress callback (stage "ot"). _LOSS, _P, _TRUNCATE
 *             and _CLUSTER_SCALE do not apply.
 *   dtype     GEOMLOSS_F32 or GEOMLOSS_F64.
 *   N, M, D   points in x, points in y, dimension; each >= 1.
 *   bufs      the arrays (required; not modified), with B = 1:
 *               inputs   x, y (required), a, b (not set: uniform), v, u;
 *               outputs  value ("the dual objective", GeomLoss's value),
 *                        value_linear, F, G, F_aa, G_bb, marginal_a,
 *                        marginal_b, a_to_b, b_to_a, plan_v, plan_t_u, plan,
 *                        n_iter, marginal_error, value_grad_x, value_grad_y
 *                        (see geomloss_buffer_key; the value gradients are
 *                        GEOMLOSS_ERR_UNSUPPORTED with _DEBIAS 1).
 *             No output is required. cot_value, cot_F, cot_G and the
 *             gradients are refused (GEOMLOSS_ERR_INVALID_ARGUMENT, naming
 *             the buffer), as is c.
 *
 * Statuses as geomloss_eval; a count that does not fit is refused naming the
 * buffer ("plan_v has 5 elements, needs 6 (B×N×K = 1×3×2)"). On success the
 * last-run report describes the run. */
GEOMLOSS_API int geomloss_ot_solve_sample(const geomloss_options *opts, int dtype, int64_t N,
                                          int64_t M, int64_t D, const geomloss_buffers *bufs);

/* As geomloss_ot_solve_sample for an explicit N x M cost matrix c (buffer
 * "c", required) instead of points (GeomLoss's ot.solve): GEOMLOSS_OPT_REG
 * must be set (> 0), and GEOMLOSS_OPT_UNBALANCED rather than _REACH; x, y,
 * a_to_b, b_to_a and F_aa, G_bb are refused; _DEBIAS is not read; _BACKEND
 * multiscale is GEOMLOSS_ERR_INVALID_OPTION (it needs points). */
GEOMLOSS_API int geomloss_ot_solve(const geomloss_options *opts, int dtype, int64_t N, int64_t M,
                                   const geomloss_buffers *bufs);

/* B problems of the same sizes in one call: as geomloss_ot_solve_sample
 * (same options, buffers and statuses) with every buffer holding B items
 * along a leading axis ([B][N][D] points, [B][N] weights, [B][M][K] v,
 * [B] value, [B][N][M] plan...; see geomloss_buffer_key). Item b's outputs
 * equal, bit for bit, those of geomloss_ot_solve_sample on item b alone.
 * The outputs are written only if every item succeeds; an item's error
 * names it ("item 3: ..."). The last-run report is the last item's. */
GEOMLOSS_API int geomloss_ot_solve_sample_batch(const geomloss_options *opts, int dtype, int64_t B,
                                                int64_t N, int64_t M, int64_t D,
                                                const geomloss_buffers *bufs);

/* B cost matrices c ([B][N][M]) in one call, as geomloss_ot_solve per item
 * (bit for bit), with the conventions of geomloss_ot_solve_sample_batch. */
GEOMLOSS_API int geomloss_ot_solve_batch(const geomloss_options *opts, int dtype, int64_t B,
                                         int64_t N, int64_t M, const geomloss_buffers *bufs);

/* ---- transport plans (handles) ----------------------------------------------- */

/* A solved transport plan kept by the library: solve once, then apply the
 * plan (products, marginals, barycentric maps, the dense plan) without
 * solving again. A handle is a number, never a pointer; 0 is never a live
 * handle, and a freed handle is never reused (using it is refused, not
 * undefined). Handles are valid in every thread; calls on one plan are
 * serialised by the library, calls on different plans run in parallel. */
typedef uint64_t geomloss_plan;

/* As geomloss_ot_solve_sample (same arguments, outputs and statuses), and on
 * success also keeps the plan and writes its handle to *plan (0 on failure;
 * plan NULL: GEOMLOSS_ERR_NULL_POINTER). The plan holds copies of what it
 * needs (the points, potentials and weights): the caller's arrays may be
 * freed. Release it with geomloss_plan_free. */
GEOMLOSS_API int geomloss_ot_solve_sample_plan(const geomloss_options *opts, int dtype, int64_t N,
                                               int64_t M, int64_t D, const geomloss_buffers *bufs,
                                               geomloss_plan *plan);

/* As geomloss_ot_solve (an explicit cost matrix), keeping the plan as
 * geomloss_ot_solve_sample_plan does. */
GEOMLOSS_API int geomloss_ot_solve_plan(const geomloss_options *opts, int dtype, int64_t N,
                                        int64_t M, const geomloss_buffers *bufs,
                                        geomloss_plan *plan);

/* B problems in one call, keeping every item's plan: as
 * geomloss_ot_solve_sample_batch (same arguments, outputs and statuses), and
 * on success also writes to plans[b] (an array of B handles) the handle of
 * item b's plan, which is the plan geomloss_ot_solve_sample_plan keeps for
 * item b alone (its geomloss_plan_eval outputs are equal, bit for bit).
 * Each is an ordinary plan: geomloss_plan_eval, _info, and free each one
 * with geomloss_plan_free. On failure no plan is kept and plans[0..B-1]
 * are 0 (for B >= 1; nothing is written for a B the size checks refuse);
 * plans NULL: GEOMLOSS_ERR_NULL_POINTER. */
GEOMLOSS_API int geomloss_ot_solve_sample_batch_plan(const geomloss_options *opts, int dtype,
                                                     int64_t B, int64_t N, int64_t M, int64_t D,
                                                     const geomloss_buffers *bufs,
                                                     geomloss_plan *plans);

/* As geomloss_ot_solve_batch (B cost matrices), keeping every item's plan
 * as geomloss_ot_solve_sample_batch_plan does. */
GEOMLOSS_API int geomloss_ot_solve_batch_plan(const geomloss_options *opts, int dtype, int64_t B,
                                              int64_t N, int64_t M, const geomloss_buffers *bufs,
                                              geomloss_plan *plans);

/* Computes from a kept plan the outputs whose buffers are set in bufs
 * (required; not modified): value_linear, marginal_a, marginal_b, a_to_b,
 * b_to_a, value_grad_x, value_grad_y (not for a cost matrix's plan),
 * plan_v (with v, [M][K]), plan_t_u (with u, [N][L]) and plan, of the
 * plan's element type (geomloss_plan_info)
 * and sizes; each equals, bit for bit, what the solve call would have
 * written with the same buffers. Any other key set is refused naming it.
 * Returns GEOMLOSS_OK; GEOMLOSS_ERR_INVALID_ARGUMENT for a handle that is
 * not live (freed, or never made) or a refused buffer; the statuses of
 * geomloss_ot_solve_sample for the buffers' counts and values (e.g. a
 * non-finite v: GEOMLOSS_ERR_VALUE). Outputs are written only on success.
 * The last-run report is not changed. */
GEOMLOSS_API int geomloss_plan_eval(geomloss_plan plan, const geomloss_buffers *bufs);

/* Writes the plan's element type (GEOMLOSS_F32 or _F64) and sizes N, M, D
 * (D = 0 for a cost matrix's plan) to the pointers that are not NULL.
 * Returns GEOMLOSS_OK or GEOMLOSS_ERR_INVALID_ARGUMENT (not a live handle). */
GEOMLOSS_API int geomloss_plan_info(geomloss_plan plan, int *dtype, int64_t *N, int64_t *M,
                                    int64_t *D);

/* Releases the plan. Returns GEOMLOSS_OK, or GEOMLOSS_ERR_INVALID_ARGUMENT
 * for a handle that is not live (0, freed already, never made): freeing
 * twice is an error, not a crash. A call in progress on the plan in another
 * thread completes first. */
GEOMLOSS_API int geomloss_plan_free(geomloss_plan plan);

/* ---- images and volumes (grids) ---------------------------------------------- */

/* Computes GeomLoss's sinkhorn_divergence (ImagesLoss, VolumesLoss) between B
 * pairs of densities on one regular grid of ndim = 1, 2 or 3 axes, with the
 * outputs whose buffers are set. Pixel u along axis k sits at u*h[k] (the
 * reference's domain [0,1)^ndim when spacing is NULL: h[k] = 1/shape[k]);
 * the cost is sum_k c(|u_k - v_k| h[k]), c(t) = t^2/2 (p = 2) or t (p = 1,
 * the reference's L1 cost). Arrays are row-major, the last axis fastest.
 *
 *   opts     options, or NULL for the defaults (not modified). Read:
 *            GEOMLOSS_OPT_P, _REACH, _SCALING (any value in (0, 1)), _DEBIAS,
 *            _DIAMETER (0: the domain's largest side), _THREADS, _DEVICE
 *            (gpu is refused: grids run on the CPU), the progress callback,
 *            and _BLUR only if it was set: not set (or reset), the blur is
 *            the smallest pixel width (the reference's blur = None);
 *            _SINGLE_SCALE and _GRID_TOL (grids only). _LOSS must be
 *            sinkhorn and _TOL 0 (the schedule is fixed); _BACKEND,
 *            _TRUNCATE, _CLUSTER_SCALE, _MAX_ITER do not apply.
 *   dtype    GEOMLOSS_F32 or GEOMLOSS_F64.
 *   B        the number of pairs (GeomLoss's (B, K, ...) inputs are B*K pairs:
 *            its value sums the K channels' values), >= 1.
 *   ndim     1, 2 or 3; shape: its ndim sides (each >= 1, any length, not
 *            only powers of two).
 *   spacing  ndim positive pixel widths (GeomLoss's axes: (vmax - vmin)/n),
 *            or NULL for 1/shape[k].
 *   bufs     the arrays (required; not modified), with P = the product of
 *            the sides:
 *              GEOMLOSS_BUF_A, _B           [B][P] densities (required;
 *                                           non-negative, equal masses when balanced)
 *              GEOMLOSS_BUF_COT_VALUE       [B] cotangent of each value
 *              GEOMLOSS_BUF_COT_F, _COT_G   [B][P] cotangents of F and G
 *              GEOMLOSS_BUF_VALUE           [B] the divergences (required)
 *              GEOMLOSS_BUF_F, _G           [B][P] potentials (F - F_aa and
 *                                           G - G_bb when debiased)
 *              GEOMLOSS_BUF_GRAD_A, _GRAD_B [B][P] gradients of
 *                                           S = sum_b cot_value[b]*value[b]
 *                                           + sum cot_F*F + sum cot_G*G
 *            The point-cloud keys (x, y, grad_x, grad_y) must not be set.
 *            The potentials' gradients hold the Sinkhorn loop's duals fixed
 *            and differentiate the last soft-min through its weights: the
 *            final full-resolution step or, when the last iteration is a
 *            pyramid jump (the reference's defaults on power-of-two sides),
 *            that iteration's coarse soft-min on the sum-pooled densities,
 *            through the averaging and the upsampling.
 *
 * Statuses as geomloss_eval; a count that does not fit is refused naming the
 * buffer ("grad_a has 15 elements, needs 16 (B×Π shape = 1×4×4)"). On success
 * geomloss_last_backend() is GEOMLOSS_BACKEND_AUTO (the grid solver) and
 * geomloss_last_device() GEOMLOSS_DEVICE_CPU. */
GEOMLOSS_API int geomloss_eval_grid(const geomloss_options *opts, int dtype, int64_t B, int ndim,
                                    const int64_t *shape, const double *spacing,
                                    const geomloss_buffers *bufs);

/* Computes GeomLoss's ImagesBarycenter: B Wasserstein barycenters of K
 * densities each on one grid (as geomloss_eval_grid: ndim, shape, spacing),
 * and optionally the gradients of S = sum cot*bar w.r.t. the measures and
 * the weights, by reverse mode through the extra_iterations last iterations.
 *
 *   opts              as geomloss_eval_grid (read: _P, _BLUR if set, else the
 *                     pixel width; _THREADS, _DEVICE); may be NULL.
 *   dtype             GEOMLOSS_F32 or GEOMLOSS_F64: the element type of the arrays.
 *   B, K              barycenters, measures per barycenter; each >= 1.
 *   scaling_n         iterations per pyramid level (the reference's scaling_N,
 *                     10), >= 1.
 *   extra_iterations  iterations at the final blur after the pyramid (the
 *                     reference's backward_iterations, 5, which it runs only
 *                     when an input requires a gradient); >= 1 for gradients.
 *   measures          [B][K][P] densities (required), weights [B][K] (required).
 *   cot               [B][P] cotangent of bar (required with a gradient; else
 *                     ignored, may be NULL).
 *   bar               [B][P] output (required).
 *   grad_measures     [B][K][P] output, or NULL; grad_weights [B][K], or NULL.
 *
 * The lengths are those documented (raw pointers, not keyed buffers). Statuses
 * as geomloss_eval; outputs written only on success. */
GEOMLOSS_API int geomloss_images_barycenter(const geomloss_options *opts, int dtype, int64_t B,
                                            int64_t K, int ndim, const int64_t *shape,
                                            const double *spacing, int64_t scaling_n,
                                            int64_t extra_iterations, const void *measures,
                                            const void *weights, const void *cot, void *bar,
                                            void *grad_measures, void *grad_weights);

/* ---- last-run report (per thread) ------------------------------------------ */

/* The backend that actually ran in the last successful geomloss_eval_* call on
 * the calling thread (GEOMLOSS_BACKEND_TENSORIZED, _ONLINE or _MULTISCALE;
 * auto is resolved), or -1 if the last evaluation on this thread
 * failed or none was made. */
GEOMLOSS_API int geomloss_last_backend(void);

/* The device of that run (GEOMLOSS_DEVICE_CPU or _GPU), or -1 as above. */
GEOMLOSS_API int geomloss_last_device(void);

/* The name of the reduction engine of that run (e.g. "portable", "avx2"), or
 * "" as above. Valid until the next geomloss_eval_* call on the same thread.
 * Never NULL. */
GEOMLOSS_API const char *geomloss_last_engine(void);

/* A note on that run explaining a substitution (e.g. "multiscale runs as
 * online"), or "". Same lifetime as geomloss_last_engine. Never NULL. */
GEOMLOSS_API const char *geomloss_last_note(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GEOMLOSS_H */
