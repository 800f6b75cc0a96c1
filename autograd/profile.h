/* profile.h - where a step's time goes, op by op: calls and wall time of each op's forward and backward.
 *
 * Attach a profile to a context (vae_ctx_set_profile) and every op run on it adds its calls and wall time until it
 * is detached: forward from the op's entry to its return, less the time of ops it builds on (a fused op that calls
 * vae_contiguous counts only its own part); backward, its backward function. The times are wall time of the calling
 * thread, so an op split over the thread pool counts its slowest thread and the waits for it — comparing a profile on
 * 1 and on N threads shows which ops the extra threads do not speed up. Phases outside the ops (data, optimizer,
 * gradient zeroing) are added by name with vae_profile_add. The cost when attached is two clock reads per op; when
 * detached, one test. A profile may be shared by several contexts run one after another, not at the same time.
 */
#ifndef VAE_PROFILE_H
#define VAE_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "autograd/context.h"

typedef struct vae_profile vae_profile;

/* One row of a profile: an op (kind 0) or a named phase (kind 1). Times in nanoseconds, summed over calls. calls
 * counts an op's forward calls; a view (reshape, slice, ...), which runs no kernel forward and is not timed there,
 * counts its backward calls instead. */
typedef struct vae_profile_row {
    const char *name;
    int kind;
    int64_t calls;
    int64_t fwd_ns, bwd_ns; /* a phase's time is in fwd_ns */
} vae_profile_row;

/* New, empty profile; NULL on OOM. */
VAE_API vae_profile *vae_profile_new(void);
VAE_API void vae_profile_free(vae_profile *p);
/* Forget every count and time (the phase names too). */
VAE_API void vae_profile_clear(vae_profile *p);
/* Attach p to ctx (NULL detaches). */
VAE_API void vae_ctx_set_profile(vae_ctx *ctx, vae_profile *p);
/* A monotonic clock in nanoseconds, for timing phases. */
VAE_API int64_t vae_profile_now_ns(void);
/* Add one call of `ns` nanoseconds to the phase `name` (names are cut to 31 characters; after 15 names, new ones
 * are added to a row "other"). */
VAE_API void vae_profile_add(vae_profile *p, const char *name, int64_t ns);
/* The non-empty rows, largest total time first, into rows[0..cap); returns how many there are (may exceed cap).
 * Row names point into the profile or the op table: valid until the profile is cleared or freed. */
VAE_API int vae_profile_rows(const vae_profile *p, vae_profile_row *rows, int cap);
/* The profile as a text table, times per step (steps > 0; 1 gives totals): op, calls per step, forward, backward
 * and total ms, share of the total. Returns the length it needed, like snprintf. */
VAE_API int vae_profile_format(const vae_profile *p, double steps, char *buf, size_t n);

#endif
