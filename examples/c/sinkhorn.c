/* Minimal use of libgeomloss from C: the Sinkhorn divergence between two
 * random 3D point clouds and its gradient with respect to the first one.
 *
 *   make lib
 *   export PKG_CONFIG_PATH=$PWD/dist/lib/pkgconfig    # or after make install
 *   cc -std=c99 examples/c/sinkhorn.c $(pkg-config --cflags --libs geomloss) -lm -o sinkhorn
 *   LD_LIBRARY_PATH=$PWD/dist/lib ./sinkhorn
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <geomloss.h>

int main(void) {
  enum { N = 1000, M = 800, D = 3 };
  double *x = malloc(sizeof(double) * N * D), *y = malloc(sizeof(double) * M * D);
  double *grad_x = malloc(sizeof(double) * N * D);
  double value, norm = 0;
  geomloss_options *opts;
  int i, status;
  if (!x || !y || !grad_x) return 1;
  srand(0);
  for (i = 0; i < N * D; i++) x[i] = (double)rand() / RAND_MAX;       /* U[0,1]^3 */
  for (i = 0; i < M * D; i++) y[i] = 0.5 + 0.2 * rand() / RAND_MAX;   /* a smaller cube */

  opts = geomloss_options_create(); /* GeomLoss defaults: sinkhorn, p=2, blur=0.05 */
  if (opts == NULL) return 1;
  geomloss_options_set_double(opts, GEOMLOSS_OPT_BLUR, 0.01);
  geomloss_options_set_double(opts, GEOMLOSS_OPT_SCALING, 0.8);

  /* B = 1 pair of clouds, uniform weights (a = b = NULL); value and grad_x only. */
  status = geomloss_eval_f64(opts, 1, N, M, D, x, y, NULL, NULL, /* inputs */
                             NULL, NULL, NULL,                    /* cotangents: d value */
                             &value, NULL, NULL,                  /* value, F, G */
                             grad_x, NULL, NULL, NULL);           /* gradients */
  if (status != GEOMLOSS_OK) {
    fprintf(stderr, "geomloss: %s: %s\n", geomloss_status_string(status), geomloss_last_error());
    return 1;
  }
  for (i = 0; i < N * D; i++) norm += grad_x[i] * grad_x[i];
  printf("libgeomloss %s: S(x, y) = %.6f, |grad_x| = %.6f (backend %s, engine %s)\n",
         geomloss_version(), value, sqrt(norm),
         geomloss_value_name(GEOMLOSS_OPT_BACKEND, geomloss_last_backend()),
         geomloss_last_engine());

  geomloss_options_destroy(opts);
  free(x);
  free(y);
  free(grad_x);
  return 0;
}
