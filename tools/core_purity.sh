#!/usr/bin/env bash
# Fails if the core library references an OS, clock, random, socket, file, stdio-output or
# heap symbol (DESIGN §2, STYLE lesson 2).  snprintf into buffers is allowed; memory comes from
# the allocator the world passes in.  Usage: tools/core_purity.sh path/to/libpd_core.a
set -euo pipefail
lib="$1"
banned='^(malloc|calloc|realloc|free|aligned_alloc|posix_memalign|rand|random|srand|srandom|drand48|rand_r|arc4random|getrandom|getentropy|time|clock|clock_gettime|gettimeofday|ftime|localtime|localtime_r|gmtime|gmtime_r|mktime|sleep|usleep|nanosleep|socket|bind|listen|accept|accept4|connect|send|sendto|sendmsg|recv|recvfrom|recvmsg|read|write|readv|writev|pread|pwrite|open|open64|openat|close|fopen|fopen64|fclose|fread|fwrite|fflush|fsync|fdatasync|lseek|unlink|rename|mkdir|opendir|readdir|stat|fstat|lstat|ioctl|fcntl|poll|select|epoll_wait|epoll_create1|epoll_ctl|printf|fprintf|vprintf|vfprintf|puts|fputs|putchar|fputc|putc|perror|dprintf|system|popen|fork|exec|execve|getpid|kill|signal|sigaction|abort|exit|_exit|getenv|setenv|pthread_create|dlopen)$'
undefined=$(nm -u --format=posix "$lib" | awk '{print $1}' | sed 's/@.*//' | sort -u)
bad=$(echo "$undefined" | grep -E "$banned" || true)
if [ -n "$bad" ]; then
  echo "core_purity: libpd_core references forbidden symbols:"
  echo "$bad" | sed 's/^/  /'
  for sym in $bad; do
    nm -A --format=posix "$lib" 2>/dev/null | awk -v s="$sym" '$2==s && $3=="U" {print "    used in " $1}'
  done
  exit 1
fi
echo "core_purity: ok ($(echo "$undefined" | wc -l) undefined symbols checked, none forbidden)"
