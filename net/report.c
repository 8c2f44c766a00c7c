/*
 * report.c: `paddock report DB -o DIR`: reads the run records of reports/schema.sql
 * (read-only, inside one read transaction, so the numbers agree with each other even
 * while another process appends runs) and writes DIR/index.html and DIR/summary.md.
 *
 * The page is self-contained: inline CSS, SVG plots drawn here, no script, no fetched
 * resource.  The Markdown file carries the same tables and numbers (a histogram becomes
 * a table of its bins).  Sections: overview; failover time distributions; election
 * rounds; throughput over virtual time around faults; checks; failing runs with their
 * replay commands; every figure; coverage marks no fuzz run hit; per fuzz workload, the
 * failure rate with each fault class on and per ensemble size; failed fuzz runs with their
 * shrunk runs and Lua scenarios (table shrunk).
 *
 * Runs are grouped by (kind, scenario): one scenario in the simulator and the same
 * scenario against real processes measure different clocks, so they are reported apart.
 * Statistics: the median of an even count is the mean of the two middle values; p95 is
 * the nearest rank (the smallest value with at least 95% of the values at or below it).
 * Number formats are plain so a test can find them: integers without separators,
 * milliseconds without decimals, percentages with one decimal.
 */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "marks.h"
#include "report.h"

/* Event kinds drawn as markers on the throughput plots. */
#define REPORT_MARKER_KINDS                                                                        \
	"('crash', 'torn_write', 'partition', 'isolate', 'heal', 'restart', 'skew', 'clog', "      \
	"'disk_full', 'wipe', 'kill', 'pause')"
/* The kinds that start a fault (recoveries, heal and restart, do not): the first of them
 * in a run is the fault that the before/after throughput table measures around. */
#define REPORT_FAULT_KINDS                                                                          \
	"('crash', 'torn_write', 'partition', 'isolate', 'skew', 'clog', 'disk_full', 'wipe', 'kill', 'pause')"
/* Selects the runs of one group; ?1 binds the kind, ?2 the scenario (NULL matches NULL). */
#define REPORT_GROUP_WHERE " r.kind = ?1 AND r.scenario IS ?2 "
/* Buckets of the throughput table, as recorded (schema.sql). */
#define REPORT_BUCKET_MS 100
#define REPORT_OUTCOMES_MAX 16

struct report_group {
	char *kind;
	char *scenario; /* NULL: plain simulator runs */
	char label[192];
	int64_t runs;
};

struct report {
	sqlite3 *db;
	FILE *html;
	FILE *md;
	struct report_group *groups;
	size_t groups_count;
	bool has_figures;
	bool has_checks;
	bool has_events;
	bool has_throughput;
	bool failed; /* a query failed; errmsg says which */
	char errmsg[512];
};

struct report_values {
	double *v;
	size_t count;
	size_t cap;
};

struct report_stats {
	size_t count;
	double min;
	double median;
	double p95;
	double max;
	double mean;
};

struct report_bucket {
	int64_t at_ms;
	int64_t ok;
	int64_t failed;
};

struct report_event {
	int64_t at_us;
	int64_t server; /* < 0: not about one server */
	char *kind;
	char *detail;
};

/* Where a plot's data area lies in its SVG and what its axes span. */
struct report_plot {
	double left;
	double top;
	double width;
	double height;
	double x_max;
	double y_max;
};

/* ---- output ------------------------------------------------------------------------- */

static void report_h(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report_m(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report_h(struct report *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(r->html, fmt, ap);
	va_end(ap);
}

static void report_m(struct report *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(r->md, fmt, ap);
	va_end(ap);
}

/* Text into HTML, element content or attribute value alike. */
static void report_h_text(struct report *r, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", r->html);
			break;
		case '<':
			fputs("&lt;", r->html);
			break;
		case '>':
			fputs("&gt;", r->html);
			break;
		case '"':
			fputs("&quot;", r->html);
			break;
		case '\'':
			fputs("&#x27;", r->html);
			break;
		default:
			fputc(*s, r->html);
		}
	}
}

/* Text into a Markdown table cell: one line, pipes escaped, no raw HTML. */
static void report_m_text(struct report *r, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '|')
			fputs("\\|", r->md);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', r->md);
		else if (*s == '<')
			fputs("&lt;", r->md);
		else
			fputc(*s, r->md);
	}
}

/* A heading in both files; id names the HTML section that follows (NULL: no section). */
static void report_heading(struct report *r, int level, const char *id, const char *text)
{
	if (id != NULL)
		report_h(r, "<section id=\"%s\">\n", id);
	report_h(r, "<h%d>", level);
	report_h_text(r, text);
	report_h(r, "</h%d>\n", level);
	report_m(r, "%.*s ", level, "######");
	report_m_text(r, text);
	report_m(r, "\n\n");
}

/* A paragraph in both files. */
static void report_para(struct report *r, const char *text)
{
	report_h(r, "<p>");
	report_h_text(r, text);
	report_h(r, "</p>\n");
	report_m_text(r, text);
	report_m(r, "\n\n");
}

static void report_table(struct report *r, const char *const *heads, size_t n)
{
	size_t i;
	report_h(r, "<table><tr>");
	report_m(r, "|");
	for (i = 0; i < n; i++) {
		report_h(r, "<th>");
		report_h_text(r, heads[i]);
		report_h(r, "</th>");
		report_m(r, " ");
		report_m_text(r, heads[i]);
		report_m(r, " |");
	}
	report_h(r, "</tr>\n");
	report_m(r, "\n|");
	for (i = 0; i < n; i++)
		report_m(r, " --- |");
	report_m(r, "\n");
}

/* A command as code in a Markdown table cell; a command with a backtick gets a double
 * fence, padded with spaces. */
static void report_m_code(struct report *r, const char *s)
{
	bool backtick = strchr(s, '`') != NULL;
	report_m(r, backtick ? "`` " : "`");
	report_m_text(r, s);
	report_m(r, backtick ? " ``" : "`");
}

/* One row in both files; bad marks a row about something that failed; the cells whose bit
 * is set in code are commands, shown as code. */
static void report_row_code(struct report *r, bool bad, const char *const *cells, size_t n, uint32_t code)
{
	size_t i;
	report_h(r, bad ? "<tr class=\"bad\">" : "<tr>");
	report_m(r, "|");
	for (i = 0; i < n; i++) {
		bool is_code = (code >> i) & 1;
		report_h(r, is_code ? "<td class=\"replay\"><code>" : "<td>");
		report_h_text(r, cells[i]);
		report_h(r, is_code ? "</code></td>" : "</td>");
		report_m(r, " ");
		if (is_code)
			report_m_code(r, cells[i]);
		else
			report_m_text(r, cells[i]);
		report_m(r, " |");
	}
	report_h(r, "</tr>\n");
	report_m(r, "\n");
}

static void report_row(struct report *r, bool bad, const char *const *cells, size_t n)
{
	report_row_code(r, bad, cells, n, 0);
}

static void report_table_end(struct report *r)
{
	report_h(r, "</table>\n");
	report_m(r, "\n");
}

/* ---- numbers ------------------------------------------------------------------------ */

static double report_floor(double x)
{
	double t = (double)(long long)x;
	return t > x ? t - 1 : t;
}

static double report_ceil(double x)
{
	double t = report_floor(x);
	return t < x ? t + 1 : t;
}

static bool report_integral(double x)
{
	return x > -1e15 && x < 1e15 && x == report_floor(x);
}

/* The smallest 1, 2 or 5 times a power of ten that is at least x (x > 0). */
static double report_nice(double x)
{
	double p = 1;
	if (!(x > 0))
		return 1;
	while (p * 10 <= x)
		p *= 10;
	while (p > x)
		p /= 10;
	if (x <= p)
		return p;
	if (x <= 2 * p)
		return 2 * p;
	if (x <= 5 * p)
		return 5 * p;
	return 10 * p;
}

static void report_fmt_int(char *b, size_t size, int64_t v)
{
	snprintf(b, size, "%" PRId64, v);
}

static void report_fmt_ms(char *b, size_t size, double v)
{
	snprintf(b, size, "%.0f", v);
}

static void report_fmt_pct(char *b, size_t size, double part, double whole)
{
	if (whole > 0)
		snprintf(b, size, "%.1f%%", 100.0 * part / whole);
	else
		snprintf(b, size, "-");
}

/* A figure: integers as integers, anything else with one decimal. */
static void report_fmt_value(char *b, size_t size, double v)
{
	snprintf(b, size, report_integral(v) ? "%.0f" : "%.1f", v);
}

/* An axis label: as short as the value allows. */
static void report_fmt_tick(char *b, size_t size, double v)
{
	snprintf(b, size, report_integral(v) ? "%.0f" : "%g", v);
}

static int report_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Sorts v and summarises it. */
static void report_stats_of(double *v, size_t n, struct report_stats *s)
{
	size_t i, rank;
	double sum = 0;
	memset(s, 0, sizeof(*s));
	s->count = n;
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), report_cmp_double);
	for (i = 0; i < n; i++)
		sum += v[i];
	s->min = v[0];
	s->max = v[n - 1];
	s->median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	rank = (95 * n + 99) / 100; /* ceil(0.95 n), in integers */
	s->p95 = v[rank - 1];
	s->mean = sum / (double)n;
}

/* ---- queries ------------------------------------------------------------------------ */

static void report_fail(struct report *r, const char *what)
{
	if (!r->failed)
		snprintf(r->errmsg, sizeof(r->errmsg), "%s (in: %s)", sqlite3_errmsg(r->db), what);
	r->failed = true;
}

/* A prepared statement, or NULL with the failure recorded (every later use of NULL is
 * harmless: report_next says there are no rows, sqlite3_finalize ignores it). */
static sqlite3_stmt *report_prepare(struct report *r, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		report_fail(r, sql);
		return NULL;
	}
	return st;
}

/* As report_prepare, with ?1 and ?2 bound to the group (see REPORT_GROUP_WHERE). */
static sqlite3_stmt *report_prepare_group(struct report *r, const char *sql, const struct report_group *g)
{
	sqlite3_stmt *st = report_prepare(r, sql);
	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, g->kind, -1, SQLITE_STATIC);
	if (g->scenario != NULL)
		sqlite3_bind_text(st, 2, g->scenario, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	return st;
}

static bool report_next(struct report *r, sqlite3_stmt *st)
{
	int rc;
	if (st == NULL)
		return false;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return true;
	if (rc != SQLITE_DONE)
		report_fail(r, sqlite3_sql(st));
	return false;
}

static const char *report_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t != NULL ? (const char *)t : "";
}

static int64_t report_scalar(struct report *r, const char *sql)
{
	sqlite3_stmt *st = report_prepare(r, sql);
	int64_t v = report_next(r, st) ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return v;
}

static bool report_has_table(struct report *r, const char *name)
{
	sqlite3_stmt *st = report_prepare(r, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
	bool found;
	if (st != NULL)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = report_next(r, st);
	sqlite3_finalize(st);
	return found;
}

static void report_values_add(struct report_values *vs, double x)
{
	if (vs->count == vs->cap) {
		size_t cap = vs->cap > 0 ? vs->cap * 2 : 64;
		double *v = realloc(vs->v, cap * sizeof(*v));
		if (v == NULL) {
			fprintf(stderr, "paddock report: out of memory\n");
			exit(1);
		}
		vs->v = v;
		vs->cap = cap;
	}
	vs->v[vs->count++] = x;
}

/* The first column of sql over one group, with ?3 bound to name if not NULL. */
static void report_load_values(struct report *r, const struct report_group *g, const char *sql, const char *name,
			       struct report_values *vs)
{
	sqlite3_stmt *st = report_prepare_group(r, sql, g);
	vs->count = 0;
	if (st != NULL && name != NULL)
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	while (report_next(r, st))
		report_values_add(vs, sqlite3_column_double(st, 0));
	sqlite3_finalize(st);
}

static void report_label(char *b, size_t size, const char *kind, const char *scenario)
{
	const char *usual = scenario != NULL ? "scenario" : "sim";
	const char *name = scenario != NULL ? scenario : "(simulator)";
	if (strcmp(kind, usual) == 0)
		snprintf(b, size, "%s", name);
	else
		snprintf(b, size, "%s (%s)", name, kind);
}

static void report_load_groups(struct report *r)
{
	sqlite3_stmt *st = report_prepare(r, "SELECT kind, scenario, count(*) FROM runs GROUP BY kind, scenario "
					     "ORDER BY scenario IS NOT NULL, scenario, kind");
	while (report_next(r, st)) {
		struct report_group *g, *groups = realloc(r->groups, (r->groups_count + 1) * sizeof(*groups));
		if (groups == NULL) {
			fprintf(stderr, "paddock report: out of memory\n");
			exit(1);
		}
		r->groups = groups;
		g = &r->groups[r->groups_count++];
		g->kind = strdup(report_col(st, 0));
		g->scenario = sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL : strdup(report_col(st, 1));
		g->runs = sqlite3_column_int64(st, 2);
		if (g->kind == NULL || (sqlite3_column_type(st, 1) != SQLITE_NULL && g->scenario == NULL)) {
			fprintf(stderr, "paddock report: out of memory\n");
			exit(1);
		}
		report_label(g->label, sizeof(g->label), g->kind, g->scenario);
	}
	sqlite3_finalize(st);
}

/* ---- SVG ---------------------------------------------------------------------------- */

static double report_px(const struct report_plot *p, double x)
{
	return p->left + (p->x_max > 0 ? x / p->x_max : 0) * p->width;
}

static double report_py(const struct report_plot *p, double y)
{
	return p->top + p->height - (p->y_max > 0 ? y / p->y_max : 0) * p->height;
}

static void report_svg_open(struct report *r, int width, int height, const char *title)
{
	report_h(r,
		 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		 "role=\"img\" aria-label=\"",
		 width, height, width, height);
	report_h_text(r, title);
	report_h(r, "\" font-family=\"system-ui, sans-serif\" font-size=\"11\">\n");
}

/* The y axis: grid lines and labels from 0 to p->y_max in steps of step, the axis
 * lines, and both axis titles. */
static void report_svg_axes(struct report *r, const struct report_plot *p, double step, const char *x_title,
			    const char *y_title)
{
	double y, bottom = p->top + p->height;
	char b[32];
	for (y = 0; y <= p->y_max + step / 1000; y += step) {
		report_fmt_tick(b, sizeof(b), y);
		report_h(r,
			 "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
			 "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			 p->left, report_py(p, y), p->left + p->width, report_py(p, y), p->left - 5, report_py(p, y) + 4,
			 b);
	}
	report_h(r,
		 "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
		 "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
		 p->left, p->top, p->left, bottom, p->left, bottom, p->left + p->width, bottom);
	report_h(r, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">", p->left + p->width / 2,
		 bottom + 34);
	report_h_text(r, x_title);
	report_h(r,
		 "</text><text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" "
		 "transform=\"rotate(-90 14 %.1f)\">",
		 p->top + p->height / 2, p->top + p->height / 2);
	report_h_text(r, y_title);
	report_h(r, "</text>\n");
}

static void report_svg_xtick(struct report *r, const struct report_plot *p, double x_px, const char *label)
{
	double bottom = p->top + p->height;
	report_h(r,
		 "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
		 "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
		 x_px, bottom, x_px, bottom + 4, x_px, bottom + 16);
	report_h_text(r, label);
	report_h(r, "</text>\n");
}

/* ---- histograms --------------------------------------------------------------------- */

/* A histogram of sorted values (n > 0): bins of width 1 for small integers, else of a
 * round width; bars in SVG into the page, the bins as a table into the Markdown. */
static void report_histogram(struct report *r, const double *v, size_t n, const char *x_title, const char *title)
{
	const int svg_width = 560, svg_height = 250;
	struct report_plot p = {.left = 56, .top = 12, .width = svg_width - 56 - 14, .height = svg_height - 12 - 48};
	bool integer = true;
	double lo, width, bar, ystep;
	size_t bins, bins_min = 1, i, every;
	int64_t *counts, top = 0;
	for (i = 0; i < n; i++)
		integer = integer && report_integral(v[i]);
	if (integer && v[n - 1] - v[0] <= 40) {
		/* at least five bins, so that one value does not fill the whole plot */
		double pad = v[n - 1] - v[0] < 4 ? report_floor((4 - (v[n - 1] - v[0])) / 2) : 0;
		width = 1;
		lo = v[0] >= 0 && v[0] - pad < 0 ? 0 : v[0] - pad;
		bins_min = 5;
	} else {
		double span = v[n - 1] - v[0];
		integer = false;
		width = report_nice(span > 0 ? span / 12 : (v[0] > 10 ? v[0] / 10 : 1));
		lo = report_floor(v[0] / width) * width;
	}
	bins = (size_t)((v[n - 1] - lo) / width) + 1;
	bins = bins < bins_min ? bins_min : bins;
	if (bins > 200)
		bins = 200;
	counts = calloc(bins, sizeof(*counts));
	if (counts == NULL) {
		fprintf(stderr, "paddock report: out of memory\n");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		size_t k = (size_t)((v[i] - lo) / width);
		counts[k < bins ? k : bins - 1]++;
	}
	for (i = 0; i < bins; i++)
		top = counts[i] > top ? counts[i] : top;
	ystep = report_nice((double)top / 5);
	ystep = ystep < 1 ? 1 : ystep;
	p.y_max = report_ceil((double)top / ystep) * ystep;
	p.x_max = (double)bins;
	bar = p.width / (double)bins;
	report_svg_open(r, svg_width, svg_height, title);
	report_svg_axes(r, &p, ystep, x_title, "runs");
	report_m(r, "| %s | runs |\n| --- | --- |\n", integer ? "value" : "bin");
	for (i = 0; i < bins; i++) {
		char a[32], b[32];
		double y = report_py(&p, (double)counts[i]);
		report_fmt_tick(a, sizeof(a), lo + (double)i * width);
		report_fmt_tick(b, sizeof(b), lo + (double)(i + 1) * width);
		report_h(r,
			 "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4a7fb5\">"
			 "<title>%s%s%s: %" PRId64 "</title></rect>\n",
			 report_px(&p, (double)i) + 1, y, bar > 3 ? bar - 2 : 1, p.top + p.height - y, integer ? "" : a,
			 integer ? "" : " to ", integer ? a : b, counts[i]);
		if (counts[i] > 0) {
			if (integer)
				report_m(r, "| %s | %" PRId64 " |\n", a, counts[i]);
			else
				report_m(r, "| %s to %s | %" PRId64 " |\n", a, b, counts[i]);
		}
	}
	report_m(r, "\n");
	every = (bins + 11) / 12;
	for (i = 0; i <= bins; i += every) {
		char a[32];
		if (integer && i == bins)
			break;
		report_fmt_tick(a, sizeof(a), lo + (double)i * width);
		report_svg_xtick(r, &p, report_px(&p, integer ? (double)i + 0.5 : (double)i), a);
	}
	report_h(r, "</svg>\n");
	free(counts);
}

/* Per group, a histogram of one figure with its numbers beside it; returns how many
 * groups had the figure.  ms: the figure is a time (numbers without decimals). */
static size_t report_figure_histograms(struct report *r, const char *figure, const char *x_title, bool ms)
{
	static const char sql[] = "SELECT f.value FROM run_figures f JOIN runs r ON r.id = f.run_id "
				  "WHERE" REPORT_GROUP_WHERE "AND f.name = ?3";
	static const char *const heads[] = {"runs", "min", "median", "p95", "max"};
	struct report_values vs = {0};
	size_t gi, shown = 0;
	for (gi = 0; gi < r->groups_count; gi++) {
		const struct report_group *g = &r->groups[gi];
		struct report_stats s;
		char cells[5][32], title[256];
		const char *row[5] = {cells[0], cells[1], cells[2], cells[3], cells[4]};
		void (*fmt)(char *, size_t, double) = ms ? report_fmt_ms : report_fmt_value;
		report_load_values(r, g, sql, figure, &vs);
		if (vs.count == 0)
			continue;
		shown++;
		report_stats_of(vs.v, vs.count, &s);
		snprintf(title, sizeof(title), "%s: %s", g->label, figure);
		report_heading(r, 3, NULL, title);
		report_h(r, "<div class=\"plot\">\n");
		report_fmt_int(cells[0], sizeof(cells[0]), (int64_t)s.count);
		fmt(cells[1], sizeof(cells[1]), s.min);
		fmt(cells[2], sizeof(cells[2]), s.median);
		fmt(cells[3], sizeof(cells[3]), s.p95);
		fmt(cells[4], sizeof(cells[4]), s.max);
		report_table(r, heads, 5);
		report_row(r, false, row, 5);
		report_table_end(r);
		report_histogram(r, vs.v, vs.count, x_title, title);
		report_h(r, "</div>\n");
	}
	free(vs.v);
	return shown;
}

/* ---- sections ----------------------------------------------------------------------- */

static void report_overview_counts(struct report *r, const char *column, const char *head, int64_t total)
{
	const char *heads[] = {head, "runs", "share"};
	char sql[160];
	sqlite3_stmt *st;
	snprintf(sql, sizeof(sql), "SELECT %s, count(*) FROM runs GROUP BY %s ORDER BY %s IS NOT 'pass', %s", column,
		 column, column, column);
	st = report_prepare(r, sql);
	report_table(r, heads, 3);
	while (report_next(r, st)) {
		char runs[32], share[32];
		const char *row[3] = {report_col(st, 0), runs, share};
		report_fmt_int(runs, sizeof(runs), sqlite3_column_int64(st, 1));
		report_fmt_pct(share, sizeof(share), (double)sqlite3_column_int64(st, 1), (double)total);
		report_row(r, strcmp(column, "outcome") == 0 && strcmp(row[0], "pass") != 0, row, 3);
	}
	report_table_end(r);
	sqlite3_finalize(st);
}

/* One row of the per-scenario table. */
static void report_overview_group(struct report *r, const struct report_group *g, struct report_values *vs)
{
	char cells[13][48];
	const char *row[13];
	struct report_stats s;
	sqlite3_stmt *st;
	uint64_t seed_min = UINT64_MAX, seed_max = 0;
	int64_t passed = 0;
	size_t i;
	for (i = 0; i < 13; i++)
		row[i] = cells[i];
	row[0] = g->label;
	row[1] = g->kind;
	st = report_prepare_group(r, "SELECT seed, outcome = 'pass' FROM runs r WHERE" REPORT_GROUP_WHERE, g);
	while (report_next(r, st)) {
		uint64_t seed = (uint64_t)sqlite3_column_int64(st, 0);
		seed_min = seed < seed_min ? seed : seed_min;
		seed_max = seed > seed_max ? seed : seed_max;
		passed += sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	report_fmt_int(cells[2], sizeof(cells[2]), g->runs);
	report_fmt_int(cells[3], sizeof(cells[3]), passed);
	report_fmt_int(cells[4], sizeof(cells[4]), g->runs - passed);
	report_fmt_pct(cells[5], sizeof(cells[5]), (double)passed, (double)g->runs);
	if (seed_min == seed_max)
		snprintf(cells[6], sizeof(cells[6]), "%" PRIu64, seed_min);
	else
		snprintf(cells[6], sizeof(cells[6]), "%" PRIu64 "..%" PRIu64, seed_min, seed_max);
	for (i = 0; i < 2; i++) {
		report_load_values(r, g,
				   i == 0 ? "SELECT virtual_ms FROM runs r WHERE" REPORT_GROUP_WHERE
					  : "SELECT wall_ms FROM runs r WHERE" REPORT_GROUP_WHERE,
				   NULL, vs);
		report_stats_of(vs->v, vs->count, &s);
		report_fmt_ms(cells[7 + 3 * i], sizeof(cells[0]), s.median);
		report_fmt_ms(cells[8 + 3 * i], sizeof(cells[0]), s.p95);
		report_fmt_ms(cells[9 + 3 * i], sizeof(cells[0]), s.max);
	}
	report_row(r, passed < g->runs, row, 13);
}

/* Runs per group and outcome: one column per outcome present. */
static void report_overview_outcomes(struct report *r)
{
	char *outcomes[REPORT_OUTCOMES_MAX];
	const char *heads[REPORT_OUTCOMES_MAX + 2];
	size_t n = 0, i, gi;
	sqlite3_stmt *st = report_prepare(r, "SELECT DISTINCT outcome FROM runs ORDER BY outcome IS NOT 'pass', outcome");
	while (n < REPORT_OUTCOMES_MAX && report_next(r, st))
		outcomes[n++] = strdup(report_col(st, 0));
	sqlite3_finalize(st);
	heads[0] = "scenario";
	heads[1] = "kind";
	for (i = 0; i < n; i++)
		heads[i + 2] = outcomes[i] != NULL ? outcomes[i] : "?";
	report_table(r, heads, n + 2);
	for (gi = 0; gi < r->groups_count; gi++) {
		const struct report_group *g = &r->groups[gi];
		char cells[REPORT_OUTCOMES_MAX][24];
		const char *row[REPORT_OUTCOMES_MAX + 2] = {g->label, g->kind};
		for (i = 0; i < n; i++) {
			snprintf(cells[i], sizeof(cells[i]), "0");
			row[i + 2] = cells[i];
		}
		st = report_prepare_group(r, "SELECT outcome, count(*) FROM runs r WHERE" REPORT_GROUP_WHERE "GROUP BY outcome",
					  g);
		while (report_next(r, st))
			for (i = 0; i < n; i++)
				if (outcomes[i] != NULL && strcmp(outcomes[i], report_col(st, 0)) == 0)
					report_fmt_int(cells[i], sizeof(cells[i]), sqlite3_column_int64(st, 1));
		sqlite3_finalize(st);
		report_row(r, false, row, n + 2);
	}
	report_table_end(r);
	for (i = 0; i < n; i++)
		free(outcomes[i]);
}

static void report_overview(struct report *r, const char *db_path)
{
	static const char *const heads[] = {"scenario",		"kind",		 "runs",	   "passed", "failed",
					    "pass rate",	"seeds",	 "virtual ms median", "virtual ms p95",
					    "virtual ms max",	"wall ms median", "wall ms p95",	   "wall ms max"};
	struct report_values vs = {0};
	int64_t total = report_scalar(r, "SELECT count(*) FROM runs");
	char line[1024];
	sqlite3_stmt *st;
	size_t gi;
	report_heading(r, 2, "overview", "1. Overview");
	st = report_prepare(r, "SELECT min(started_at), max(started_at), count(DISTINCT commit_id) FROM runs");
	if (report_next(r, st) && total > 0)
		snprintf(line, sizeof(line), "Database %s: %" PRId64 " runs, started %s to %s, from %" PRId64 " commit(s).",
			 db_path, total, report_col(st, 0), report_col(st, 1), (int64_t)sqlite3_column_int64(st, 2));
	else
		snprintf(line, sizeof(line), "Database %s: no runs recorded.", db_path);
	sqlite3_finalize(st);
	report_para(r, line);
	if (total == 0) {
		report_h(r, "</section>\n");
		return;
	}
	report_heading(r, 3, NULL, "Runs by kind");
	report_overview_counts(r, "kind", "kind", total);
	report_heading(r, 3, NULL, "Runs by outcome");
	report_overview_counts(r, "outcome", "outcome", total);
	report_heading(r, 3, NULL, "Runs by scenario and outcome");
	report_overview_outcomes(r);
	report_heading(r, 3, NULL, "Per scenario");
	report_para(r, "Failed counts every outcome other than pass; p95 is the nearest rank.");
	report_table(r, heads, 13);
	for (gi = 0; gi < r->groups_count; gi++)
		report_overview_group(r, &r->groups[gi], &vs);
	report_table_end(r);
	report_h(r, "</section>\n");
	free(vs.v);
}

static void report_failover(struct report *r)
{
	report_heading(r, 2, "failover", "2. Failover time distributions");
	report_para(r, "Figure failover_ms: the time from a fault until a new leader or master serves.");
	if (!r->has_figures || report_figure_histograms(r, "failover_ms", "failover time (ms)", true) == 0)
		report_para(r, "No run recorded the figure failover_ms.");
	report_h(r, "</section>\n");
}

static void report_elections(struct report *r)
{
	size_t shown = 0;
	report_heading(r, 2, "elections", "3. Election rounds");
	report_para(r, "Figures election_rounds (rounds a scenario waited for) and elections (elections in a run).");
	if (r->has_figures) {
		shown += report_figure_histograms(r, "election_rounds", "election rounds", false);
		shown += report_figure_histograms(r, "elections", "elections", false);
	}
	if (shown == 0)
		report_para(r, "No run recorded the figures election_rounds or elections.");
	report_h(r, "</section>\n");
}

static void report_free_events(struct report_event *ev, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		free(ev[i].kind);
		free(ev[i].detail);
	}
	free(ev);
}

/* The marker events of one run, in time order; *count gets how many. */
static struct report_event *report_load_events(struct report *r, int64_t run_id, size_t *count)
{
	sqlite3_stmt *st = report_prepare(r, "SELECT at_us, server, kind, detail FROM events WHERE run_id = ?1 AND kind IN "
					  REPORT_MARKER_KINDS " ORDER BY at_us, rowid");
	struct report_event *ev = NULL;
	size_t n = 0;
	if (st != NULL)
		sqlite3_bind_int64(st, 1, run_id);
	while (report_next(r, st)) {
		struct report_event *more = realloc(ev, (n + 1) * sizeof(*ev));
		if (more == NULL) {
			fprintf(stderr, "paddock report: out of memory\n");
			exit(1);
		}
		ev = more;
		ev[n].at_us = sqlite3_column_int64(st, 0);
		ev[n].server = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 1);
		ev[n].kind = strdup(report_col(st, 2));
		ev[n].detail = strdup(report_col(st, 3));
		n++;
		if (ev[n - 1].kind == NULL || ev[n - 1].detail == NULL) {
			fprintf(stderr, "paddock report: out of memory\n");
			exit(1);
		}
	}
	sqlite3_finalize(st);
	*count = n;
	return ev;
}

static struct report_bucket *report_load_buckets(struct report *r, int64_t run_id, size_t *count)
{
	sqlite3_stmt *st = report_prepare(r, "SELECT at_ms, ok, failed FROM throughput WHERE run_id = ?1 ORDER BY at_ms");
	struct report_bucket *b = NULL;
	size_t n = 0;
	if (st != NULL)
		sqlite3_bind_int64(st, 1, run_id);
	while (report_next(r, st)) {
		struct report_bucket *more = realloc(b, (n + 1) * sizeof(*b));
		if (more == NULL) {
			fprintf(stderr, "paddock report: out of memory\n");
			exit(1);
		}
		b = more;
		b[n].at_ms = sqlite3_column_int64(st, 0);
		b[n].ok = sqlite3_column_int64(st, 1);
		b[n].failed = sqlite3_column_int64(st, 2);
		n++;
	}
	sqlite3_finalize(st);
	*count = n;
	return b;
}

/* A step line of ok (or failed) operations per second, closed down to the time axis so it
 * fills as an area; a gap between buckets drops to zero. */
static void report_tp_path(struct report *r, const struct report_plot *p, const struct report_bucket *b, size_t n,
			   bool failed, const char *colour)
{
	double zero = report_py(p, 0);
	size_t i;
	report_h(r, "<path d=\"M%.1f %.1f", report_px(p, (double)b[0].at_ms), zero);
	for (i = 0; i < n; i++) {
		double y = report_py(p, (double)(failed ? b[i].failed : b[i].ok) * (1000.0 / REPORT_BUCKET_MS));
		if (i > 0 && b[i].at_ms > b[i - 1].at_ms + REPORT_BUCKET_MS)
			report_h(r, " L%.1f %.1f L%.1f %.1f", report_px(p, (double)(b[i - 1].at_ms + REPORT_BUCKET_MS)), zero,
				 report_px(p, (double)b[i].at_ms), zero);
		report_h(r, " L%.1f %.1f L%.1f %.1f", report_px(p, (double)b[i].at_ms), y,
			 report_px(p, (double)(b[i].at_ms + REPORT_BUCKET_MS)), y);
	}
	report_h(r, " L%.1f %.1f Z\" fill=\"%s\" fill-opacity=\"0.22\" stroke=\"%s\" stroke-width=\"1.3\"/>\n",
		 report_px(p, (double)(b[n - 1].at_ms + REPORT_BUCKET_MS)), zero, colour, colour);
}

static const char *report_marker_colour(const char *kind)
{
	if (strcmp(kind, "heal") == 0)
		return "#2a9d3a";
	if (strcmp(kind, "restart") == 0)
		return "#7b4fa6";
	return "#d9480f";
}

/* Vertical marker lines with labels above the plot: each label goes to the first of four
 * rows where it does not overlap the previous label (else to the row that ends first). */
static void report_tp_markers(struct report *r, const struct report_plot *p, const struct report_event *ev, size_t n)
{
	double row_end[4] = {-1e9, -1e9, -1e9, -1e9};
	size_t i, k, row;
	for (i = 0; i < n; i++) {
		double x = report_px(p, (double)ev[i].at_us / 1000.0), y;
		double label_px = 5.8 * (double)(strlen(ev[i].kind) + (ev[i].server >= 0 ? 4 : 0)) + 6;
		bool right = x + label_px > p->left + p->width + 16;
		double start = right ? x - label_px : x;
		const char *colour = report_marker_colour(ev[i].kind);
		for (row = 0, k = 0; k < 4; k++) {
			if (row_end[k] < start) {
				row = k;
				break;
			}
			row = row_end[k] < row_end[row] ? k : row;
		}
		row_end[row] = right ? x : x + label_px;
		y = p->top - 6 - (double)row * 12;
		report_h(r,
			 "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"4 3\"/>"
			 "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" font-size=\"10\" text-anchor=\"%s\"><title>",
			 x, y + 3, x, p->top + p->height, colour, right ? x - 2 : x + 2, y, colour, right ? "end" : "start");
		report_h(r, "%.0f ms ", (double)ev[i].at_us / 1000.0);
		report_h_text(r, ev[i].kind);
		report_h(r, " ");
		report_h_text(r, ev[i].detail);
		report_h(r, "</title>");
		report_h_text(r, ev[i].kind);
		if (ev[i].server >= 0)
			report_h(r, " s%" PRId64, ev[i].server);
		report_h(r, "</text>\n");
	}
}

static void report_tp_svg(struct report *r, const char *title, const struct report_bucket *b, size_t n,
			  const struct report_event *ev, size_t ev_count)
{
	const int svg_width = 940, svg_height = 330;
	struct report_plot p = {.left = 64, .top = 50, .width = svg_width - 64 - 20, .height = svg_height - 50 - 62};
	double peak = 0, ystep, xstep, x;
	size_t i;
	for (i = 0; i < n; i++) {
		double ok = (double)b[i].ok * (1000.0 / REPORT_BUCKET_MS);
		double failed = (double)b[i].failed * (1000.0 / REPORT_BUCKET_MS);
		peak = ok > peak ? ok : peak;
		peak = failed > peak ? failed : peak;
	}
	p.x_max = (double)(b[n - 1].at_ms + REPORT_BUCKET_MS);
	if (ev_count > 0 && (double)ev[ev_count - 1].at_us / 1000.0 + REPORT_BUCKET_MS > p.x_max)
		p.x_max = (double)ev[ev_count - 1].at_us / 1000.0 + REPORT_BUCKET_MS;
	ystep = report_nice(peak > 0 ? peak / 5 : 1);
	p.y_max = report_ceil((peak > 0 ? peak : 1) / ystep) * ystep;
	report_svg_open(r, svg_width, svg_height, title);
	report_svg_axes(r, &p, ystep, "virtual time (s)", "operations per second");
	xstep = report_nice(p.x_max / 12);
	xstep = xstep < REPORT_BUCKET_MS ? REPORT_BUCKET_MS : xstep;
	for (x = 0; x <= p.x_max; x += xstep) {
		char label[32];
		report_fmt_tick(label, sizeof(label), x / 1000);
		report_svg_xtick(r, &p, report_px(&p, x), label);
	}
	report_tp_path(r, &p, b, n, false, "#1f6fb4");
	report_tp_path(r, &p, b, n, true, "#d62728");
	report_tp_markers(r, &p, ev, ev_count);
	report_h(r,
		 "<g transform=\"translate(%.1f %d)\"><rect width=\"10\" height=\"10\" fill=\"#1f6fb4\"/>"
		 "<text x=\"14\" y=\"9\">ok</text><rect x=\"44\" width=\"10\" height=\"10\" fill=\"#d62728\"/>"
		 "<text x=\"58\" y=\"9\">failed</text><line x1=\"106\" y1=\"5\" x2=\"124\" y2=\"5\" stroke=\"#d9480f\" "
		 "stroke-dasharray=\"4 3\"/><text x=\"128\" y=\"9\">fault</text></g>\n",
		 p.left + p.width - 170, svg_height - 14);
	report_h(r, "</svg>\n");
}

/* The fault events of the plotted run as a table (folded away in the page). */
static void report_tp_event_table(struct report *r, const struct report_event *ev, size_t n)
{
	static const char *const heads[] = {"at ms", "server", "kind", "detail"};
	size_t i;
	report_h(r, "<details><summary>%zu fault event(s)</summary>\n", n);
	report_table(r, heads, 4);
	for (i = 0; i < n; i++) {
		char at[32], server[32];
		const char *row[4] = {at, server, ev[i].kind, ev[i].detail};
		report_fmt_ms(at, sizeof(at), (double)ev[i].at_us / 1000.0);
		if (ev[i].server >= 0)
			report_fmt_int(server, sizeof(server), ev[i].server);
		else
			snprintf(server, sizeof(server), "-");
		report_row(r, false, row, 4);
	}
	report_table_end(r);
	report_h(r, "</details>\n");
}

/* The plot of one group: its run with the lowest seed that has throughput rows. */
static bool report_tp_group(struct report *r, const struct report_group *g)
{
	static const char *const heads[] = {"run", "seed", "buckets", "ok operations", "failed operations",
					    "peak ok ops/s"};
	sqlite3_stmt *st = report_prepare_group(r,
						"SELECT r.id, r.seed FROM runs r WHERE" REPORT_GROUP_WHERE
						"AND EXISTS (SELECT 1 FROM throughput t WHERE t.run_id = r.id) "
						"ORDER BY r.seed, r.id LIMIT 1",
						g);
	struct report_bucket *b;
	struct report_event *ev = NULL;
	size_t n, ev_count = 0, i;
	int64_t run_id, ok = 0, failed = 0, peak = 0;
	uint64_t seed;
	char title[320], cells[6][32];
	const char *row[6] = {cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]};
	if (!report_next(r, st)) {
		sqlite3_finalize(st);
		return false;
	}
	run_id = sqlite3_column_int64(st, 0);
	seed = (uint64_t)sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	b = report_load_buckets(r, run_id, &n);
	if (n == 0) {
		free(b);
		return false;
	}
	if (r->has_events)
		ev = report_load_events(r, run_id, &ev_count);
	for (i = 0; i < n; i++) {
		ok += b[i].ok;
		failed += b[i].failed;
		peak = b[i].ok > peak ? b[i].ok : peak;
	}
	snprintf(title, sizeof(title), "%s: throughput of seed %" PRIu64, g->label, seed);
	report_heading(r, 3, NULL, title);
	report_fmt_int(cells[0], sizeof(cells[0]), run_id);
	snprintf(cells[1], sizeof(cells[1]), "%" PRIu64, seed);
	report_fmt_int(cells[2], sizeof(cells[2]), (int64_t)n);
	report_fmt_int(cells[3], sizeof(cells[3]), ok);
	report_fmt_int(cells[4], sizeof(cells[4]), failed);
	report_fmt_int(cells[5], sizeof(cells[5]), peak * (1000 / REPORT_BUCKET_MS));
	report_table(r, heads, 6);
	report_row(r, false, row, 6);
	report_table_end(r);
	report_tp_svg(r, title, b, n, ev, ev_count);
	if (ev_count > 0)
		report_tp_event_table(r, ev, ev_count);
	else
		report_para(r, "No fault events in this run.");
	report_free_events(ev, ev_count);
	free(b);
	return true;
}

static double report_tp_sum(struct report *r, sqlite3_stmt *st, int64_t run_id, int64_t lo_us, int64_t hi_us)
{
	double sum = 0;
	if (st == NULL)
		return 0;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, lo_us);
	sqlite3_bind_int64(st, 3, hi_us);
	if (report_next(r, st))
		sum = sqlite3_column_double(st, 0);
	return sum;
}

/* One row of the before/after table: over the group's runs with throughput and a fault,
 * the mean of ok ops/s in [t-1 s, t) and in [t+1 s, t+3 s), t the run's first fault; a
 * window is cut at the start of time and at the end of the run's recorded buckets. */
static void report_tp_aggregate_row(struct report *r, const struct report_group *g)
{
	sqlite3_stmt *st = report_prepare_group(
		r,
		"SELECT r.id, (SELECT min(e.at_us) FROM events e WHERE e.run_id = r.id AND e.kind IN " REPORT_FAULT_KINDS
		"), (SELECT max(t.at_ms) FROM throughput t WHERE t.run_id = r.id) FROM runs r WHERE" REPORT_GROUP_WHERE
		"AND EXISTS (SELECT 1 FROM throughput t WHERE t.run_id = r.id) ORDER BY r.seed, r.id",
		g);
	sqlite3_stmt *sum = report_prepare(r, "SELECT coalesce(sum(ok), 0) FROM throughput WHERE run_id = ?1 "
					      "AND at_ms * 1000 >= ?2 AND at_ms * 1000 < ?3");
	double before = 0, after = 0;
	int64_t measured = 0, with_data = 0;
	char cells[5][32];
	const char *row[6] = {g->label, cells[0], cells[1], cells[2], cells[3], cells[4]};
	while (report_next(r, st)) {
		int64_t run_id = sqlite3_column_int64(st, 0), t, end, lo, hi;
		with_data++;
		if (sqlite3_column_type(st, 1) == SQLITE_NULL)
			continue;
		t = sqlite3_column_int64(st, 1);
		end = (sqlite3_column_int64(st, 2) + REPORT_BUCKET_MS) * 1000;
		lo = t > 1000000 ? t - 1000000 : 0;
		hi = t + 3000000 < end ? t + 3000000 : end;
		if (t <= lo || hi <= t + 1000000)
			continue; /* no time before the fault, or no buckets after it */
		before += report_tp_sum(r, sum, run_id, lo, t) * 1e6 / (double)(t - lo);
		after += report_tp_sum(r, sum, run_id, t + 1000000, hi) * 1e6 / (double)(hi - t - 1000000);
		measured++;
	}
	sqlite3_finalize(st);
	sqlite3_finalize(sum);
	report_fmt_int(cells[0], sizeof(cells[0]), with_data);
	report_fmt_int(cells[1], sizeof(cells[1]), measured);
	if (measured > 0) {
		before /= (double)measured;
		after /= (double)measured;
		snprintf(cells[2], sizeof(cells[2]), "%.0f", before);
		snprintf(cells[3], sizeof(cells[3]), "%.0f", after);
		if (before > 0)
			snprintf(cells[4], sizeof(cells[4]), "%+.1f%%", 100.0 * (after - before) / before);
		else
			snprintf(cells[4], sizeof(cells[4]), "-");
	} else {
		snprintf(cells[2], sizeof(cells[2]), "-");
		snprintf(cells[3], sizeof(cells[3]), "-");
		snprintf(cells[4], sizeof(cells[4]), "-");
	}
	report_row(r, false, row, 6);
}

static bool report_group_has_throughput(struct report *r, const struct report_group *g)
{
	sqlite3_stmt *st = report_prepare_group(r,
						"SELECT 1 FROM runs r WHERE" REPORT_GROUP_WHERE
						"AND EXISTS (SELECT 1 FROM throughput t WHERE t.run_id = r.id) LIMIT 1",
						g);
	bool found = report_next(r, st);
	sqlite3_finalize(st);
	return found;
}

static void report_throughput(struct report *r)
{
	static const char *const heads[] = {"scenario",		    "runs with throughput", "runs measured",
					    "ok ops/s 1 s before", "ok ops/s 1-3 s after",  "change"};
	size_t gi, shown = 0;
	report_heading(r, 2, "throughput", "4. Throughput over virtual time around faults");
	report_para(r, "Per scenario, the run with the lowest seed that recorded throughput: ok and failed client "
		       "operations per second (100 ms buckets times 10), with a marker at each fault or recovery "
		       "(crash, torn_write, partition, isolate, heal, restart, skew, clog, disk_full, wipe; kill and "
		       "pause: a client process dies or stalls).");
	for (gi = 0; r->has_throughput && gi < r->groups_count; gi++)
		shown += report_tp_group(r, &r->groups[gi]) ? 1 : 0;
	if (shown == 0) {
		report_para(r, "No run recorded throughput.");
		report_h(r, "</section>\n");
		return;
	}
	report_heading(r, 3, NULL, "Before and after the first fault");
	report_para(r, "For each run with throughput, t is its first fault (crash, torn_write, partition, isolate, "
		       "skew, clog, disk_full, wipe, kill or pause); the table gives the mean over those runs of ok operations "
		       "per second in the second before t and from 1 s to 3 s after t.");
	report_table(r, heads, 6);
	for (gi = 0; gi < r->groups_count; gi++) {
		if (r->has_events && report_group_has_throughput(r, &r->groups[gi]))
			report_tp_aggregate_row(r, &r->groups[gi]);
	}
	report_table_end(r);
	report_h(r, "</section>\n");
}

static void report_checks(struct report *r)
{
	static const char *const heads[] = {"check", "held in runs", "failed in runs"};
	size_t gi, shown = 0;
	report_heading(r, 2, "checks", "5. Checks");
	for (gi = 0; r->has_checks && gi < r->groups_count; gi++) {
		const struct report_group *g = &r->groups[gi];
		sqlite3_stmt *st = report_prepare_group(
			r,
			"SELECT c.name, count(DISTINCT CASE WHEN c.held THEN c.run_id END), "
			"count(DISTINCT CASE WHEN NOT c.held THEN c.run_id END) FROM checks c JOIN runs r ON r.id = c.run_id "
			"WHERE" REPORT_GROUP_WHERE "GROUP BY c.name ORDER BY min(c.rowid)",
			g);
		bool any = false;
		while (report_next(r, st)) {
			char held[32], failed[32];
			const char *row[3] = {report_col(st, 0), held, failed};
			if (!any) {
				report_heading(r, 3, NULL, g->label);
				report_table(r, heads, 3);
				any = true;
			}
			report_fmt_int(held, sizeof(held), sqlite3_column_int64(st, 1));
			report_fmt_int(failed, sizeof(failed), sqlite3_column_int64(st, 2));
			report_row(r, sqlite3_column_int64(st, 2) > 0, row, 3);
		}
		sqlite3_finalize(st);
		if (any) {
			report_table_end(r);
			shown++;
		}
	}
	if (shown == 0)
		report_para(r, "No checks recorded.");
	report_h(r, "</section>\n");
}

/* One failing run: a table row in both files, the replay command as code. */
static void report_failing_run(struct report *r, sqlite3_stmt *st)
{
	char label[192], seed[32], exit_code[32];
	const char *row[6] = {label, seed, report_col(st, 4), exit_code, report_col(st, 6), report_col(st, 7)};
	report_label(label, sizeof(label), report_col(st, 1),
		     sqlite3_column_type(st, 2) == SQLITE_NULL ? NULL : report_col(st, 2));
	snprintf(seed, sizeof(seed), "%" PRIu64, (uint64_t)sqlite3_column_int64(st, 3));
	report_fmt_int(exit_code, sizeof(exit_code), sqlite3_column_int64(st, 5));
	report_row_code(r, true, row, 6, 1u << 5);
}

static void report_failing(struct report *r)
{
	static const char *const heads[] = {"scenario", "seed", "outcome", "exit code", "message", "replay"};
	sqlite3_stmt *st = report_prepare(r, "SELECT id, kind, scenario, seed, outcome, exit_code, message, replay "
					     "FROM runs WHERE outcome IS NOT 'pass' "
					     "ORDER BY scenario IS NOT NULL, scenario, kind, seed, id");
	bool any = false;
	report_heading(r, 2, "failing", "6. Failing runs");
	while (report_next(r, st)) {
		if (!any) {
			report_para(r, "Every run whose outcome is not pass, with the command that replays it exactly.");
			report_table(r, heads, 6);
			any = true;
		}
		report_failing_run(r, st);
	}
	sqlite3_finalize(st);
	if (any)
		report_table_end(r);
	else
		report_para(r, "No failing runs.");
	report_h(r, "</section>\n");
}

/* The core's coverage marks (core/marks.h) that no fuzzing run of a workload passed: the
 * paths its worlds never reach.  Each fuzz run records the marks it hit as the figure marks_hit
 * (bit m for mark m). */
static void report_marks(struct report *r)
{
	static const char *const heads[] = {"workload", "runs", "marks hit", "never hit"};
	sqlite3_stmt *st = report_prepare(r, "SELECT r.scenario, count(*) FROM runs r JOIN run_figures f ON "
					     "f.run_id = r.id AND f.name = 'marks_hit' WHERE r.kind = 'fuzz' "
					     "GROUP BY r.scenario ORDER BY r.scenario");
	bool any = false;
	report_heading(r, 2, "marks", "8. Coverage marks never hit (fuzzing)");
	while (report_next(r, st)) {
		sqlite3_stmt *v = report_prepare(r, "SELECT f.value FROM runs r JOIN run_figures f ON f.run_id = r.id "
						    "WHERE r.kind = 'fuzz' AND r.scenario IS ?1 AND f.name = 'marks_hit'");
		uint64_t hit = 0;
		uint32_t m, n = 0;
		char runs[32], count[32], never[1024] = "";
		const char *row[4];
		size_t len = 0;
		sqlite3_bind_text(v, 1, report_col(st, 0), -1, SQLITE_TRANSIENT);
		while (report_next(r, v))
			hit |= (uint64_t)sqlite3_column_double(v, 0);
		sqlite3_finalize(v);
		for (m = 0; m < PD_MARK_COUNT; m++) {
			if (hit & (1ull << m))
				n++;
			else if (len < sizeof(never))
				len += (size_t)snprintf(never + len, sizeof(never) - len, "%s%s", len > 0 ? ", " : "",
							pd_mark_names[m]);
		}
		if (!any) {
			report_para(r, "Named places in the core that rare paths pass (core/marks.h): those no fuzzing run of a "
				       "workload reached, over every run in the database.");
			report_table(r, heads, 4);
			any = true;
		}
		report_fmt_int(runs, sizeof(runs), sqlite3_column_int64(st, 1));
		snprintf(count, sizeof(count), "%u of %u", n, (unsigned)PD_MARK_COUNT);
		row[0] = report_col(st, 0);
		row[1] = runs;
		row[2] = count;
		row[3] = len > 0 ? never : "none";
		report_row(r, false, row, 4);
	}
	sqlite3_finalize(st);
	if (any)
		report_table_end(r);
	else
		report_para(r, "No fuzzing runs recorded.");
	report_h(r, "</section>\n");
}

/* ---- fuzzing: fault mixes and shrunk failures --------------------------------------- */

/* The fault classes of a fuzz run, bit 0 of its mask (runs.parameters "faults") first: the
 * order and names of net/fuzz_cli.c.  The mask is authoritative; "fault_classes" only
 * spells it out. */
static const char *const report_fault_classes[] = {"crash", "wipe", "peer_cut", "one_way", "isolate", "bridge",
						   "flap",  "loss", "skew",	"disk",	   "client",  "clog"};
#define REPORT_FAULT_CLASSES_COUNT (sizeof(report_fault_classes) / sizeof(report_fault_classes[0]))
/* Failed fuzz runs listed at most (the rest are counted). */
#define REPORT_FUZZ_FAILURES_MAX 50
/* A JSON field of runs.parameters, NULL when the parameters are not JSON. */
#define REPORT_PARAM(field) "CASE WHEN json_valid(parameters) THEN json_extract(parameters, '$." field "') END"

/* Runs and failures of one workload, all and with each fault class on. */
struct report_fault_mix {
	int64_t runs;
	int64_t failed;
	int64_t masked_runs; /* runs that recorded a fault mask */
	int64_t masked_failed;
	int64_t on_runs[REPORT_FAULT_CLASSES_COUNT];
	int64_t on_failed[REPORT_FAULT_CLASSES_COUNT];
};

/* Column i of st as a fault mask: "0x5a3" (what paddock fuzz records) or a plain integer;
 * false if it is neither. */
static bool report_fault_mask(sqlite3_stmt *st, int i, uint32_t *mask)
{
	const char *text = report_col(st, i);
	char *end;
	unsigned long v;
	if (sqlite3_column_type(st, i) == SQLITE_INTEGER) {
		sqlite3_int64 n = sqlite3_column_int64(st, i);
		*mask = (uint32_t)n;
		return n >= 0 && n <= UINT32_MAX;
	}
	if (sqlite3_column_type(st, i) != SQLITE_TEXT || text[0] == '\0')
		return false;
	errno = 0;
	v = strtoul(text, &end, 16);
	if (errno != 0 || *end != '\0' || text[0] == '-' || v > UINT32_MAX)
		return false;
	*mask = (uint32_t)v;
	return true;
}

/* The fuzz runs of the workload in column 0 of w, counted by fault class. */
static void report_fault_mix_load(struct report *r, sqlite3_stmt *w, struct report_fault_mix *mix)
{
	sqlite3_stmt *st = report_prepare(r, "SELECT " REPORT_PARAM("faults") ", outcome IS NOT 'pass' FROM runs "
					     "WHERE kind = 'fuzz' AND scenario IS ?1");
	size_t k;
	memset(mix, 0, sizeof(*mix));
	if (st != NULL)
		sqlite3_bind_value(st, 1, sqlite3_column_value(w, 0));
	while (report_next(r, st)) {
		uint32_t mask;
		int64_t failed = sqlite3_column_int64(st, 1) != 0;
		mix->runs++;
		mix->failed += failed;
		if (!report_fault_mask(st, 0, &mask))
			continue;
		mix->masked_runs++;
		mix->masked_failed += failed;
		for (k = 0; k < REPORT_FAULT_CLASSES_COUNT; k++) {
			if ((mask >> k) & 1) {
				mix->on_runs[k]++;
				mix->on_failed[k] += failed;
			}
		}
	}
	sqlite3_finalize(st);
}

/* One workload's table: per fault class, the runs with it on, how many failed, the failure
 * rate, and the failure rate of the runs with it off for comparison. */
static void report_fault_mix_workload(struct report *r, sqlite3_stmt *w)
{
	static const char *const heads[] = {"fault class", "mask bit", "runs with it on", "failed", "failure rate",
					    "failure rate with it off"};
	const char *workload = sqlite3_column_type(w, 0) == SQLITE_NULL ? "(no workload)" : report_col(w, 0);
	struct report_fault_mix mix;
	char line[512], rate[32];
	size_t k;
	report_fault_mix_load(r, w, &mix);
	report_fmt_pct(rate, sizeof(rate), (double)mix.failed, (double)mix.runs);
	report_heading(r, 3, NULL, workload);
	snprintf(line, sizeof(line), "%" PRId64 " fuzz runs, %" PRId64 " failed (%s).", mix.runs, mix.failed, rate);
	if (mix.masked_runs < mix.runs)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 " %" PRId64 " run(s) recorded no fault mask and are left out of the table.",
			 mix.runs - mix.masked_runs);
	report_para(r, line);
	report_table(r, heads, 6);
	for (k = 0; k < REPORT_FAULT_CLASSES_COUNT; k++) {
		char cells[5][32];
		const char *row[6] = {report_fault_classes[k], cells[0], cells[1], cells[2], cells[3], cells[4]};
		snprintf(cells[0], sizeof(cells[0]), "0x%03x", 1u << k);
		report_fmt_int(cells[1], sizeof(cells[1]), mix.on_runs[k]);
		report_fmt_int(cells[2], sizeof(cells[2]), mix.on_failed[k]);
		report_fmt_pct(cells[3], sizeof(cells[3]), (double)mix.on_failed[k], (double)mix.on_runs[k]);
		report_fmt_pct(cells[4], sizeof(cells[4]), (double)(mix.masked_failed - mix.on_failed[k]),
			       (double)(mix.masked_runs - mix.on_runs[k]));
		report_row(r, mix.on_failed[k] > 0, row, 6);
	}
	report_table_end(r);
}

/* Runs and failures per workload and ensemble size (runs.parameters "servers"). */
static void report_fault_mix_sizes(struct report *r)
{
	static const char *const heads[] = {"workload", "servers", "runs", "failed", "failure rate"};
	sqlite3_stmt *st = report_prepare(r, "SELECT scenario, " REPORT_PARAM("servers") " AS servers, count(*), "
					     "sum(outcome IS NOT 'pass') FROM runs WHERE kind = 'fuzz' "
					     "GROUP BY scenario, servers ORDER BY scenario, servers");
	report_heading(r, 3, NULL, "By ensemble size");
	report_table(r, heads, 5);
	while (report_next(r, st)) {
		char cells[3][32];
		const char *row[5] = {sqlite3_column_type(st, 0) == SQLITE_NULL ? "(no workload)" : report_col(st, 0),
				      sqlite3_column_type(st, 1) == SQLITE_NULL ? "-" : report_col(st, 1), cells[0],
				      cells[1], cells[2]};
		report_fmt_int(cells[0], sizeof(cells[0]), sqlite3_column_int64(st, 2));
		report_fmt_int(cells[1], sizeof(cells[1]), sqlite3_column_int64(st, 3));
		report_fmt_pct(cells[2], sizeof(cells[2]), (double)sqlite3_column_int64(st, 3),
			       (double)sqlite3_column_int64(st, 2));
		report_row(r, sqlite3_column_int64(st, 3) > 0, row, 5);
	}
	sqlite3_finalize(st);
	report_table_end(r);
}

/* Per fuzz workload, how often each fault class was on and how often those runs failed. */
static void report_fault_mixes(struct report *r)
{
	sqlite3_stmt *w;
	report_heading(r, 2, "faults", "9. Fault mixes (fuzzing)");
	if (report_scalar(r, "SELECT count(*) FROM runs WHERE kind = 'fuzz'") == 0) {
		report_para(r, "No fuzz runs recorded.");
		report_h(r, "</section>\n");
		return;
	}
	report_para(r, "Each fuzz run draws a set of fault classes (runs.parameters \"faults\", a mask; bit 0 first: "
		       "crash, wipe, peer_cut, one_way, isolate, bridge, flap, loss, skew, disk, client, clog).  "
		       "Failed counts every outcome other than pass.");
	w = report_prepare(r, "SELECT scenario FROM runs WHERE kind = 'fuzz' GROUP BY scenario ORDER BY scenario");
	while (report_next(r, w))
		report_fault_mix_workload(r, w);
	sqlite3_finalize(w);
	report_fault_mix_sizes(r);
	report_h(r, "</section>\n");
}

/* The columns of a failed fuzz run, with its shrunk row (NULLs when the database has no
 * shrunk table): 0 workload, 1 seed, 2 outcome, 3 message, 4 replay, 5 shrunk run_id,
 * 6 shrunk replay, 7 shrunk message, 8 tries, 9 moves kept, 10 moves total, 11 Lua. */
#define REPORT_FUZZ_FAILED_COLUMNS "SELECT r.scenario, r.seed, r.outcome, r.message, r.replay, "
#define REPORT_FUZZ_FAILED_WHERE                                                                             \
	" WHERE r.kind = 'fuzz' AND r.outcome IS NOT 'pass' ORDER BY r.scenario, r.seed, r.id LIMIT ?1"

/* One failed fuzz run as a table row: the shrunk columns say "not shrunk" if it was not. */
static void report_fuzz_failure_row(struct report *r, sqlite3_stmt *st)
{
	bool shrunk = sqlite3_column_type(st, 5) != SQLITE_NULL;
	char seed[32], moves[64], tries[32];
	const char *row[9] = {sqlite3_column_type(st, 0) == SQLITE_NULL ? "(no workload)" : report_col(st, 0),
			      seed,
			      report_col(st, 2),
			      report_col(st, 3),
			      report_col(st, 4),
			      shrunk ? report_col(st, 6) : "not shrunk",
			      moves,
			      tries,
			      shrunk ? report_col(st, 7) : "-"};
	snprintf(seed, sizeof(seed), "%" PRIu64, (uint64_t)sqlite3_column_int64(st, 1));
	if (shrunk) {
		snprintf(moves, sizeof(moves), "%" PRId64 "/%" PRId64, (int64_t)sqlite3_column_int64(st, 9),
			 (int64_t)sqlite3_column_int64(st, 10));
		report_fmt_int(tries, sizeof(tries), sqlite3_column_int64(st, 8));
	} else {
		snprintf(moves, sizeof(moves), "-");
		snprintf(tries, sizeof(tries), "-");
	}
	report_row_code(r, true, row, 9, shrunk ? 1u << 4 | 1u << 5 : 1u << 4);
}

/* Text as a fenced code block in the Markdown, verbatim: the fence is longer than any run
 * of backticks in the text. */
static void report_m_fence(struct report *r, const char *lang, const char *text)
{
	size_t run = 0, longest = 0, fence, i, n = strlen(text);
	for (i = 0; i < n; i++) {
		run = text[i] == '`' ? run + 1 : 0;
		longest = run > longest ? run : longest;
	}
	fence = longest >= 3 ? longest + 1 : 3;
	for (i = 0; i < fence; i++)
		fputc('`', r->md);
	report_m(r, "%s\n%s%s", lang, text, n > 0 && text[n - 1] == '\n' ? "" : "\n");
	for (i = 0; i < fence; i++)
		fputc('`', r->md);
	report_m(r, "\n\n");
}

/* The Lua scenario of one shrunk run: a <pre> block in the page, a lua fence in the
 * Markdown. */
static void report_fuzz_scenario(struct report *r, sqlite3_stmt *st)
{
	char title[320];
	snprintf(title, sizeof(title), "Shrunk scenario: %s seed %" PRIu64,
		 sqlite3_column_type(st, 0) == SQLITE_NULL ? "(no workload)" : report_col(st, 0),
		 (uint64_t)sqlite3_column_int64(st, 1));
	report_heading(r, 3, NULL, title);
	report_h(r, "<pre class=\"lua\">");
	report_h_text(r, report_col(st, 11));
	report_h(r, "</pre>\n");
	report_m_fence(r, "lua", report_col(st, 11));
}

/* Every failed fuzz run (up to REPORT_FUZZ_FAILURES_MAX) with its replay command and, if
 * paddock fuzz --shrink recorded one, its shrunk run and Lua scenario. */
static void report_fuzz_failures(struct report *r)
{
	static const char *const heads[] = {"workload",	     "seed",  "outcome",       "message", "replay",
					    "shrunk replay", "moves kept/total", "tries", "shrunk message"};
	bool has_shrunk = report_has_table(r, "shrunk");
	int64_t total = report_scalar(r, "SELECT count(*) FROM runs WHERE kind = 'fuzz' AND outcome IS NOT 'pass'");
	int64_t shrunk = has_shrunk ? report_scalar(r, "SELECT count(*) FROM runs r JOIN shrunk s ON s.run_id = r.id "
						       "WHERE r.kind = 'fuzz' AND r.outcome IS NOT 'pass'")
				    : 0;
	sqlite3_stmt *st;
	char line[512];
	report_heading(r, 2, "shrunk", "10. Fuzz failures and their shrunk scenarios");
	if (total == 0) {
		report_para(r, "No failed fuzz runs.");
		report_h(r, "</section>\n");
		return;
	}
	snprintf(line, sizeof(line),
		 "%" PRId64 " failed fuzz run(s), %" PRId64 " of them shrunk by paddock fuzz --shrink: the smallest "
		 "world and fault schedule found that still fails the same way, its replay command, and a Lua "
		 "scenario for scenarios/regressions/.",
		 total, shrunk);
	report_para(r, line);
	st = report_prepare(r, has_shrunk ? REPORT_FUZZ_FAILED_COLUMNS
			    "s.run_id, s.replay, s.message, s.tries, s.moves_kept, s.moves_total, s.scenario "
			    "FROM runs r LEFT JOIN shrunk s ON s.run_id = r.id" REPORT_FUZZ_FAILED_WHERE
					  : REPORT_FUZZ_FAILED_COLUMNS "NULL, NULL, NULL, NULL, NULL, NULL, NULL "
								       "FROM runs r" REPORT_FUZZ_FAILED_WHERE);
	if (st != NULL)
		sqlite3_bind_int(st, 1, REPORT_FUZZ_FAILURES_MAX);
	report_table(r, heads, 9);
	while (report_next(r, st))
		report_fuzz_failure_row(r, st);
	report_table_end(r);
	if (total > REPORT_FUZZ_FAILURES_MAX) {
		snprintf(line, sizeof(line), "%" PRId64 " more failed fuzz run(s) left out: the list stops at %d.",
			 total - REPORT_FUZZ_FAILURES_MAX, REPORT_FUZZ_FAILURES_MAX);
		report_para(r, line);
	}
	/* the same rows again, for the scenarios of those that were shrunk */
	if (st != NULL)
		sqlite3_reset(st);
	while (report_next(r, st))
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			report_fuzz_scenario(r, st);
	sqlite3_finalize(st);
	report_h(r, "</section>\n");
}

/* Every figure of every group: count, min, median, p95, max and mean over the runs. */
static void report_figures(struct report *r)
{
	static const char *const heads[] = {"figure", "runs", "min", "median", "p95", "max", "mean"};
	struct report_values vs = {0};
	size_t gi, shown = 0;
	report_heading(r, 2, "figures", "7. All figures");
	for (gi = 0; r->has_figures && gi < r->groups_count; gi++) {
		const struct report_group *g = &r->groups[gi];
		sqlite3_stmt *st = report_prepare_group(r,
							"SELECT DISTINCT f.name FROM run_figures f JOIN runs r ON r.id = f.run_id "
							"WHERE" REPORT_GROUP_WHERE "ORDER BY f.name",
							g);
		bool any = false;
		while (report_next(r, st)) {
			struct report_stats s;
			char cells[6][32];
			const char *row[7] = {report_col(st, 0), cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]};
			report_load_values(r, g,
					   "SELECT f.value FROM run_figures f JOIN runs r ON r.id = f.run_id "
					   "WHERE" REPORT_GROUP_WHERE "AND f.name = ?3",
					   row[0], &vs);
			report_stats_of(vs.v, vs.count, &s);
			if (!any) {
				report_heading(r, 3, NULL, g->label);
				report_table(r, heads, 7);
				any = true;
			}
			report_fmt_int(cells[0], sizeof(cells[0]), (int64_t)s.count);
			report_fmt_value(cells[1], sizeof(cells[1]), s.min);
			report_fmt_value(cells[2], sizeof(cells[2]), s.median);
			report_fmt_value(cells[3], sizeof(cells[3]), s.p95);
			report_fmt_value(cells[4], sizeof(cells[4]), s.max);
			report_fmt_value(cells[5], sizeof(cells[5]), s.mean);
			report_row(r, false, row, 7);
		}
		sqlite3_finalize(st);
		if (any) {
			report_table_end(r);
			shown++;
		}
	}
	if (shown == 0)
		report_para(r, "No figures recorded.");
	report_h(r, "</section>\n");
	free(vs.v);
}

static const char report_css[] =
	"body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",sans-serif;max-width:1160px;"
	"margin:1.5em auto;padding:0 1em;color:#222;line-height:1.4;background:#fff}"
	"h1{border-bottom:3px solid #345;padding-bottom:.2em}"
	"h2{margin-top:2em;border-bottom:1px solid #ccc;padding-bottom:.15em;color:#234}"
	"h3{margin-bottom:.4em}"
	"nav ol{columns:2;background:#f5f7fa;border:1px solid #dde;padding:.6em 2em}"
	"table{border-collapse:collapse;margin:.4em 0 1em;font-size:.92em}"
	"th,td{border:1px solid #bbb;padding:3px 8px;text-align:left;vertical-align:top}"
	"th{background:#eef1f5}"
	"tr.bad td{background:#fdecec}"
	"code{font-family:ui-monospace,\"DejaVu Sans Mono\",Menlo,monospace;font-size:.9em;background:#f4f4f4;"
	"padding:1px 3px;overflow-wrap:anywhere}"
	"td.replay{min-width:24em}"
	".plot{display:flex;flex-wrap:wrap;gap:1.2em;align-items:flex-start}"
	"svg{border:1px solid #ddd;background:#fff;max-width:100%;height:auto}"
	"details{margin:.3em 0 1em}"
	"pre{font-family:ui-monospace,\"DejaVu Sans Mono\",Menlo,monospace;font-size:.85em;background:#f4f4f4;"
	"border:1px solid #ddd;padding:.6em;overflow-x:auto}";

static void report_begin(struct report *r)
{
	static const struct {
		const char *id;
		const char *title;
	} toc[] = {{"overview", "Overview"},   {"failover", "Failover time distributions"},
		   {"elections", "Election rounds"}, {"throughput", "Throughput around faults"},
		   {"checks", "Checks"},	       {"failing", "Failing runs"},
		   {"figures", "All figures"},	       {"marks", "Coverage marks never hit"},
		   {"faults", "Fault mixes"},	       {"shrunk", "Fuzz failures and their shrunk scenarios"}};
	size_t i;
	report_h(r, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<title>Paddock run report</title>\n<style>%s</style>\n</head>\n<body>\n<h1>Paddock run report</h1>\n"
		    "<nav><ol>\n",
		 report_css);
	for (i = 0; i < sizeof(toc) / sizeof(toc[0]); i++)
		report_h(r, "<li><a href=\"#%s\">%s</a></li>\n", toc[i].id, toc[i].title);
	report_h(r, "</ol></nav>\n");
	report_m(r, "# Paddock run report\n\nThe plots are in index.html; the numbers here are the same.\n\n");
}

static void report_end(struct report *r)
{
	report_h(r, "<p style=\"color:#777;margin-top:3em\">Written by <code>paddock report</code> from the run "
		    "records (reports/schema.sql).</p>\n</body>\n</html>\n");
}

/* Creates dir and its missing parents. */
static int report_mkdirs(const char *dir)
{
	char p[4096];
	size_t i, n = strlen(dir);
	struct stat st;
	if (n == 0 || n >= sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(p, dir, n + 1);
	for (i = 1; i <= n; i++) {
		char c = p[i];
		if (c != '/' && c != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
			return -1;
		p[i] = c;
	}
	if (stat(dir, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* Opens path read-only and makes sure it holds the runs table; 0, or -1 with errmsg. */
static int report_open(struct report *r, const char *path, char *errmsg, size_t errmsg_size)
{
	struct stat st;
	sqlite3_stmt *probe = NULL;
	if (stat(path, &st) != 0) {
		snprintf(errmsg, errmsg_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(errmsg, errmsg_size, "%s: not a file", path);
		return -1;
	}
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(errmsg, errmsg_size, "%s: %s", path, r->db != NULL ? sqlite3_errmsg(r->db) : "out of memory");
		return -1;
	}
	sqlite3_busy_timeout(r->db, 10000); /* a run may be being recorded right now */
	if (sqlite3_prepare_v2(r->db,
			       "SELECT id, kind, scenario, seed, commit_id, started_at, outcome, exit_code, message, "
			       "virtual_ms, wall_ms, replay FROM runs LIMIT 0",
			       -1, &probe, NULL) != SQLITE_OK) {
		snprintf(errmsg, errmsg_size, "%s is not a run database (%s)", path, sqlite3_errmsg(r->db));
		sqlite3_finalize(probe);
		return -1;
	}
	sqlite3_finalize(probe);
	return 0;
}

static FILE *report_create(const char *dir, const char *name, char *path, size_t path_size)
{
	FILE *f;
	if ((size_t)snprintf(path, path_size, "%s/%s", dir, name) >= path_size) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	f = fopen(path, "w");
	return f;
}

/* Every section, in one read transaction. */
static void report_write(struct report *r, const char *db_path)
{
	if (sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		report_fail(r, "BEGIN");
	r->has_figures = report_has_table(r, "run_figures");
	r->has_checks = report_has_table(r, "checks");
	r->has_events = report_has_table(r, "events");
	r->has_throughput = report_has_table(r, "throughput");
	report_load_groups(r);
	report_begin(r);
	report_overview(r, db_path);
	report_failover(r);
	report_elections(r);
	report_throughput(r);
	report_checks(r);
	report_failing(r);
	report_figures(r);
	report_marks(r);
	report_fault_mixes(r);
	report_fuzz_failures(r);
	report_end(r);
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
}

/* Closes f; -1 if any write to it failed. */
static int report_close(FILE *f)
{
	int bad = ferror(f);
	return fclose(f) != 0 || bad ? -1 : 0;
}

static int report_usage(FILE *f, int code)
{
	fprintf(f, "usage: paddock report DB -o DIR\n"
		   "       builds DIR/index.html (plots, no script) and DIR/summary.md from the run records in\n"
		   "       DB (written by paddock sim --db, paddock sim SCENARIO.lua --db, paddock run --db)\n");
	return code;
}

int report_main(int argc, char **argv)
{
	struct report r;
	const char *db_path = NULL, *out_dir = NULL;
	char errmsg[1024], html_path[4096], md_path[4096];
	int i, rc = 0;
	size_t gi;
	memset(&r, 0, sizeof(r));
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return report_usage(stdout, 0);
		if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
			if (i + 1 >= argc)
				return report_usage(stderr, 2);
			out_dir = argv[++i];
		} else if (argv[i][0] == '-' || db_path != NULL) {
			return report_usage(stderr, 2);
		} else {
			db_path = argv[i];
		}
	}
	if (db_path == NULL || out_dir == NULL)
		return report_usage(stderr, 2);
	if (report_open(&r, db_path, errmsg, sizeof(errmsg)) != 0) {
		fprintf(stderr, "paddock report: %s; expected a run database written by paddock sim --db FILE\n", errmsg);
		sqlite3_close(r.db);
		return 2;
	}
	if (report_mkdirs(out_dir) != 0) {
		fprintf(stderr, "paddock report: %s: %s\n", out_dir, strerror(errno));
		sqlite3_close(r.db);
		return 1;
	}
	r.html = report_create(out_dir, "index.html", html_path, sizeof(html_path));
	r.md = r.html != NULL ? report_create(out_dir, "summary.md", md_path, sizeof(md_path)) : NULL;
	if (r.html == NULL || r.md == NULL) {
		fprintf(stderr, "paddock report: %s: %s\n", r.html == NULL ? html_path : md_path, strerror(errno));
		rc = 1;
	} else {
		report_write(&r, db_path);
		if (r.failed) {
			fprintf(stderr, "paddock report: %s: %s\n", db_path, r.errmsg);
			rc = 1;
		}
	}
	if (r.html != NULL && report_close(r.html) != 0) {
		fprintf(stderr, "paddock report: writing %s failed\n", html_path);
		rc = 1;
	}
	if (r.md != NULL && report_close(r.md) != 0) {
		fprintf(stderr, "paddock report: writing %s failed\n", md_path);
		rc = 1;
	}
	for (gi = 0; gi < r.groups_count; gi++) {
		free(r.groups[gi].kind);
		free(r.groups[gi].scenario);
	}
	free(r.groups);
	sqlite3_close(r.db);
	if (rc == 0)
		printf("paddock report: wrote %s and %s\n", html_path, md_path);
	return rc;
}
