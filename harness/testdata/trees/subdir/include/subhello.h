#define SUBHELLO_GREETING "hello from a Kbuild subdirectory"
