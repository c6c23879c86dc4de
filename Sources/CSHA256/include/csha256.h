#ifndef CSHA256_H
#define CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// SHA-256 of `length` bytes with the CPU's SHA extensions, writing 32 bytes to `digest`.
/// Returns 0, writing nothing, when the CPU has none: the caller falls back to a library.
int csha256_hardware(const uint8_t *message, size_t length, uint8_t digest[32]);

#endif
