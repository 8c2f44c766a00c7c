/*
 * report.h: `paddock report DB -o DIR`: builds DIR/index.html (one self-contained page:
 * inline CSS and SVG plots, no script, nothing fetched) and DIR/summary.md (the same
 * tables and numbers in Markdown) from the run records of reports/schema.sql.
 */
#ifndef PD_NET_REPORT_H
#define PD_NET_REPORT_H

/* argv[1] is "report".  Returns the exit code: 0 written; 1 a query or an output file
 * failed; 2 a usage error, or DB is missing or is not a run database. */
int report_main(int argc, char **argv);

#endif
