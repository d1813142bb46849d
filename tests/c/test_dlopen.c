/* The library loads with dlopen into a plain process, as Python's ctypes and
 * Julia's ccall load it: its static TLS block must fit glibc's surplus
 * ("cannot allocate memory in static TLS block" otherwise), and it must work
 * without being linked. Usage: test_dlopen /path/to/libgeomloss.so */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "geomloss.h"

typedef const char *(*version_fn)(void);
typedef int (*eval_fn)(const geomloss_options *, int64_t, int64_t, int64_t, int64_t,
                       const double *, const double *, const double *, const double *,
                       const double *, const double *, const double *, double *, double *,
                       double *, double *, double *, double *, double *);

int main(int argc, char **argv) {
  void *h;
  version_fn version;
  eval_fn eval;
  double x[4] = {0, 0, 1, 1}, y[4] = {0, 0, 1, 1}, v = -1;
  if (argc != 2) return 2;
  h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    fprintf(stderr, "FAIL dlopen: %s\n", dlerror());
    return 1;
  }
  /* POSIX: function pointers from dlsym through a data pointer copy */
  {
    void *p = dlsym(h, "geomloss_version"), *q = dlsym(h, "geomloss_eval_f64");
    if (p == NULL || q == NULL) {
      fprintf(stderr, "FAIL dlsym: %s\n", dlerror());
      return 1;
    }
    memcpy(&version, &p, sizeof p);
    memcpy(&eval, &q, sizeof q);
  }
  if (strcmp(version(), GEOMLOSS_VERSION_STRING) != 0) {
    fprintf(stderr, "FAIL version %s\n", version());
    return 1;
  }
  if (eval(NULL, 1, 2, 2, 2, x, y, NULL, NULL, NULL, NULL, NULL, &v, NULL, NULL, NULL, NULL, NULL,
           NULL) != GEOMLOSS_OK ||
      !(v > -1e-9 && v < 1e-9)) {
    fprintf(stderr, "FAIL eval: %g\n", v);
    return 1;
  }
  printf("geomloss dlopen test: ok\n");
  return 0; /* the library cannot be unloaded (Go runtime): no dlclose */
}
