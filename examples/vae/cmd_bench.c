/* vae bench - the kernel benchmark (bench.h): one JSON line on stdout. */
#include <stdio.h>

#include "bench.h"
#include "cli.h"
#include "options.h"

int cmd_bench(int argc, char **argv) {
    int smoke = 0, workloads = 0;
    const char *mnist = NULL;
    int64_t threads = 0;
    cli_opt tab[] = {
        {"smoke", NULL, CLI_OPT_FLAG, &smoke, 0, 0, NULL,
         "a few milliseconds per measurement (a quick check)", 0},
        {"workloads", NULL, CLI_OPT_FLAG, &workloads, 0, 0, NULL,
         "training samples/s on the reference workloads W1-W5 instead", 0},
        {"mnist", "DIR", CLI_OPT_STR, &mnist, 0, 0, NULL,
         "with --workloads: MNIST IDX folder (synthetic data)", 0},
        CLI_OPT_THREADS(&threads),
    };
    int rc = cli_parse(
        "bench", argc, argv, tab, (int)(sizeof tab / sizeof *tab), "[OPTIONS]",
        "Measure this machine's FP32 FMA peak and GEMM GFLOP/s for the reference shapes, or with\n"
        "--workloads the training samples/s of the reference workloads (DESIGN section 9).");
    if (rc == CLI_PARSE_HELP) return CLI_EXIT_OK;
    if (rc) return CLI_EXIT_USAGE;
    cli_set_threads(threads);
    if ((workloads ? vae_bench_workloads(stdout, mnist, smoke)
                   : vae_bench_kernels(stdout, smoke)) != 0)
        return cli_error("bench", "the benchmark could not run");
    fflush(stdout);
    return CLI_EXIT_OK;
}
