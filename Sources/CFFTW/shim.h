// FFTW 3 (double precision), found through pkg-config.
#include <fftw3.h>
