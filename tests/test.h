/* test.h - the tiny harness every test program uses.
 * Each CHECK counts one assertion; the program ends with the line "N passed, M failed" and exits 1 on failure. */
#ifndef VAE_TEST_H
#define VAE_TEST_H

#include <math.h>
#include <stdio.h>

static int test_passed_, test_failed_;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            test_passed_++;                                                                        \
        else {                                                                                     \
            test_failed_++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (cond)                                                                                  \
            test_passed_++;                                                                        \
        else {                                                                                     \
            test_failed_++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

/* |a-b| <= atol + rtol*|b| */
#define CHECK_NEAR(a, b, atol, rtol)                                                               \
    do {                                                                                           \
        double a_ = (double)(a), b_ = (double)(b);                                                 \
        if (fabs(a_ - b_) <= (atol) + (rtol)*fabs(b_))                                             \
            test_passed_++;                                                                        \
        else {                                                                                     \
            test_failed_++;                                                                        \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.10g, %s = %.10g\n", __FILE__,        \
                    __LINE__, #a, a_, #b, b_);                                                     \
        }                                                                                          \
    } while (0)

static inline int test_finish(void) {
    printf("%d passed, %d failed\n", test_passed_, test_failed_);
    return test_failed_ ? 1 : 0;
}

#endif
