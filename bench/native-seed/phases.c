// The native floor of seedwrap's placement, phase by phase (issue 12): the
// same syscalls seedwrap makes, in C, with the CPU (user + sys, getrusage) and
// wall ms of each phase printed to stderr. Usage:
//   gcc -O2 -o /tmp/phases bench/native-seed/phases.c
//   /tmp/phases SRC DEST SORT STAT PHASED
// SORT=1 links each directory's files in inode order (coreutils sorts by inode
// before copying), else in readdir order; STAT=1 stats every file first (what
// `seedwrap seed` counts bytes with); PHASED=1 is seedwrap's order (walk the
// whole tree, stat, mkdir every directory, then link), PHASED=0 is cp's
// (mkdir, link a directory's files, recurse), which prints a single "walk" phase.

#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/resource.h>
#include <time.h>
static double cpu(){struct rusage r;getrusage(RUSAGE_SELF,&r);return (r.ru_utime.tv_sec+r.ru_stime.tv_sec)*1e3+(r.ru_utime.tv_usec+r.ru_stime.tv_usec)/1e3;}
static double wall(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e3+t.tv_nsec/1e6;}
static double c0,w0; static void lap(const char*k){double c=cpu(),w=wall();fprintf(stderr,"%s %.0f/%.0f ",k,w-w0,c-c0);c0=c;w0=w;}
typedef struct { char *src, *dst; ino_t ino; } F;
F *fs_; size_t nf, cf; char **dirs; size_t nd, cd; int SORT, STAT, PHASE;
static int cmp(const void *a, const void *b) { ino_t x = ((F*)a)->ino, y = ((F*)b)->ino; return x < y ? -1 : x > y; }
static void walk(const char *s, const char *d) {
  if (PHASE == 0) { if (mkdir(d, 0700)) { perror(d); exit(1); } }
  else { if (nd == cd) dirs = realloc(dirs, (cd = cd*2+16) * sizeof *dirs); dirs[nd++] = strdup(d); }
  DIR *dir = opendir(s); struct dirent *e; size_t start = nf;
  char **subs = NULL; size_t ns = 0;
  while ((e = readdir(dir))) {
    if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1]=='.' && !e->d_name[2]))) continue;
    char *sp, *dp; asprintf(&sp, "%s/%s", s, e->d_name); asprintf(&dp, "%s/%s", d, e->d_name);
    if (e->d_type == DT_DIR) { subs = realloc(subs, (ns+1)*2*sizeof *subs); subs[2*ns] = sp; subs[2*ns+1] = dp; ns++; }
    else { if (nf == cf) fs_ = realloc(fs_, (cf = cf*2+16) * sizeof *fs_); fs_[nf++] = (F){sp, dp, e->d_ino}; }
  }
  closedir(dir);
  if (SORT) qsort(fs_ + start, nf - start, sizeof *fs_, cmp);
  if (PHASE == 0) for (size_t i = start; i < nf; i++) { struct stat st; if (STAT) stat(fs_[i].src, &st); if (link(fs_[i].src, fs_[i].dst)) { perror(fs_[i].dst); exit(1); } }
  for (size_t i = 0; i < ns; i++) walk(subs[2*i], subs[2*i+1]);
}
int main(int c, char **v) {
  SORT = atoi(v[3]); STAT = atoi(v[4]); PHASE = atoi(v[5]);
  c0=cpu();w0=wall(); walk(v[1], v[2]); lap("walk");
  if (PHASE == 1) {
    if (STAT) for (size_t i = 0; i < nf; i++) { struct stat st; stat(fs_[i].src, &st); }
    lap("stat");
    for (size_t i = 0; i < nd; i++) if (mkdir(dirs[i], 0700)) { perror(dirs[i]); exit(1); }
    lap("mkdir");
    for (size_t i = 0; i < nf; i++) if (link(fs_[i].src, fs_[i].dst)) { perror(fs_[i].dst); exit(1); }
  }
  lap("link"); fprintf(stderr,"\n"); return 0;
}
