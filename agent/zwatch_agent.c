/*  placeholder until the agent lands  */
#include "zwatch.h"
