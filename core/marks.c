/* marks.c: the names of the coverage marks (marks.h). */
#include "marks.h"

#define PD_MARK_NAME(name, text) text,
const char *const pd_mark_names[PD_MARK_COUNT] = {PD_MARKS(PD_MARK_NAME)};
