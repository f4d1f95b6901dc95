/*  faults: what every fault test needs to know about its build.  */
#ifndef FAULTS_H_INCLUDED
#define FAULTS_H_INCLUDED

#include <stdbool.h>
#include <stdlib.h>

//  True if memory (RSS) figures are ours to check: not under a sanitizer
//  (ASan's quarantine keeps freed memory) nor $ZWATCH_TEST_WRAPPER
//  (valgrind); there the figures are printed only
static inline bool
faults_rss_checked (void)
{
#ifdef FAULTS_SANITIZED
    return false;
#else
    return !getenv ("ZWATCH_TEST_WRAPPER");
#endif
}

#endif
