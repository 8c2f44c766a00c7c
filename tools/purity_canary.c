/* purity_canary.c: deliberately impure (heap, clock, stdio), so that the
 * core_purity_detects_impurity test proves tools/core_purity.sh can fail. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void *pd_purity_canary(void);

void *pd_purity_canary(void)
{
	printf("%ld\n", (long)time(NULL));
	return malloc(16);
}
