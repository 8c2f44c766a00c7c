/*
 * path.h: znode path rules and sequential-suffix helpers
 * (wire-protocol.md §7.2, §7.3).
 *
 * Validation follows ZooKeeper's rules on UTF-16 code units: a path is
 * non-empty, absolute, has no empty, "." or ".." segment, does not end in
 * '/', and contains no control, private-use, surrogate, specials or
 * supplementary characters.  Invalid UTF-8 is rejected (Java would decode it
 * to U+FFFD, which is in the forbidden specials block).
 */
#ifndef PD_PATH_H
#define PD_PATH_H

#include "types.h"

/* 0 or PD_EBADARGUMENTS. */
int pd_path_validate(const char *path, size_t len);
/* Length of the parent path ("/" for a top-level node: returns 1); 0 if path has no '/'. */
size_t pd_path_parent_len(const char *path, size_t len);
/* Offset of the last component (just past the last '/'). */
size_t pd_path_basename_off(const char *path, size_t len);
/* Writes ZooKeeper's %010d suffix for counter into out (at least 12 bytes);
 * returns its length (10, or 11 for INT32_MIN). */
size_t pd_path_seq_suffix(int32_t counter, char *out);
/* True if path is a reserved node that may never be deleted. */
bool pd_path_is_reserved(const char *path, size_t len);
/* True if desc equals path or lies below it. */
bool pd_path_is_prefix(const char *path, size_t len, const char *desc, size_t desc_len);

#endif
