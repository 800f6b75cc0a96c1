#include "models/mig.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* I(a; b) in nats from a joint count table (na, nb) over n samples. */
static double mutual_info(const int64_t *joint, int na, int64_t nb, int64_t n) {
    double mi = 0;
    for (int a = 0; a < na; a++) {
        int64_t ca = 0;
        for (int64_t b = 0; b < nb; b++) ca += joint[a * nb + b];
        if (!ca) continue;
        for (int64_t b = 0; b < nb; b++) {
            int64_t c = joint[a * nb + b];
            if (!c) continue;
            int64_t cb = 0;
            for (int a2 = 0; a2 < na; a2++) cb += joint[a2 * nb + b];
            mi += (double)c / (double)n * log((double)c * (double)n / ((double)ca * (double)cb));
        }
    }
    return mi > 0 ? mi : 0;
}

vae_status vae_mig(const float *mu, int64_t n, int64_t Z, const int64_t *factors, int nf,
                   const int64_t *sizes, int bins, double *per_factor, double *mig,
                   vae_error *err) {
    if (!mu || !factors || !sizes || !mig)
        return vae_error_set(err, VAE_ERR_NULL, "mig: NULL argument");
    if (n < 1 || Z < 2 || nf < 1 || bins < 2)
        return vae_error_set(err, VAE_ERR_ARG,
                             "mig: needs n >= 1, Z >= 2, nf >= 1 and bins >= 2; got n = %lld, "
                             "Z = %lld, nf = %d, bins = %d",
                             (long long)n, (long long)Z, nf, bins);
    if (n > INT64_MAX / Z || n > INT64_MAX / nf || (uint64_t)(n * Z) > SIZE_MAX / sizeof(int))
        return vae_error_set(err, VAE_ERR_ARG, "mig: %lld x %lld latents is too large",
                             (long long)n, (long long)Z);
    int64_t maxsize = 0;
    for (int k = 0; k < nf; k++) {
        if (sizes[k] < 1 || sizes[k] > 1000000)
            return vae_error_set(err, VAE_ERR_ARG, "mig: factor %d has %lld levels (1..1000000)", k,
                                 (long long)sizes[k]);
        if (sizes[k] > maxsize) maxsize = sizes[k];
    }
    for (int64_t i = 0; i < n * nf; i++)
        if (factors[i] < 0 || factors[i] >= sizes[i % nf])
            return vae_error_set(err, VAE_ERR_ARG,
                                 "mig: example %lld: factor %d level %lld outside [0, %lld)",
                                 (long long)(i / nf), (int)(i % nf), (long long)factors[i],
                                 (long long)sizes[i % nf]);
    int *bin = malloc(sizeof(int) * (size_t)(n * Z));
    int64_t *joint = malloc(sizeof(int64_t) * (size_t)bins * (size_t)maxsize);
    int64_t *marg = malloc(sizeof(int64_t) * (size_t)maxsize);
    double *mi = malloc(sizeof(double) * (size_t)Z);
    if (!bin || !joint || !marg || !mi) {
        free(bin), free(joint), free(marg), free(mi);
        return vae_error_set(err, VAE_ERR_OOM, "mig: out of memory for %lld x %lld latents",
                             (long long)n, (long long)Z);
    }
    /* discretize each latent over its observed range */
    for (int64_t j = 0; j < Z; j++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int64_t i = 0; i < n; i++) {
            double v = mu[i * Z + j];
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        for (int64_t i = 0; i < n; i++) {
            double v = mu[i * Z + j];
            int b = hi > lo && isfinite(v) ? (int)((v - lo) / (hi - lo) * bins) : 0;
            bin[i * Z + j] = b < 0 ? 0 : b >= bins ? bins - 1 : b;
        }
    }
    double sum = 0;
    int used = 0;
    for (int k = 0; k < nf; k++) {
        int64_t S = sizes[k];
        for (int64_t s = 0; s < S; s++) marg[s] = 0;
        for (int64_t i = 0; i < n; i++) marg[factors[i * nf + k]]++;
        double H = 0;
        for (int64_t s = 0; s < S; s++)
            if (marg[s]) H -= (double)marg[s] / (double)n * log((double)marg[s] / (double)n);
        if (!(H > 1e-12)) {
            if (per_factor) per_factor[k] = NAN;
            continue;
        }
        for (int64_t j = 0; j < Z; j++) {
            for (int64_t t = 0; t < (int64_t)bins * S; t++) joint[t] = 0;
            for (int64_t i = 0; i < n; i++)
                joint[(int64_t)bin[i * Z + j] * S + factors[i * nf + k]]++;
            mi[j] = mutual_info(joint, bins, S, n);
        }
        double m1 = -1, m2 = -1;
        for (int64_t j = 0; j < Z; j++) {
            if (mi[j] > m1)
                m2 = m1, m1 = mi[j];
            else if (mi[j] > m2)
                m2 = mi[j];
        }
        double gap = (m1 - m2) / H;
        if (per_factor) per_factor[k] = gap;
        sum += gap;
        used++;
    }
    free(bin), free(joint), free(marg), free(mi);
    *mig = used ? sum / used : NAN;
    return VAE_OK;
}
