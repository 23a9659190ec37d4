// The CBLAS interface of OpenBLAS, found through pkg-config.
#include <cblas.h>
