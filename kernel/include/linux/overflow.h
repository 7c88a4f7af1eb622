// SPDX-License-Identifier: GPL-2.0-only
/* efimap: everything lives in efimap_kernel.h. */
#include <efimap_kernel.h>
