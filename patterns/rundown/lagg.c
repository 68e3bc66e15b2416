/* SPDX-License-Identifier: BSD-2-Clause */
#include "patterns/rundown/lagg.h"

_Thread_local struct rundown_lagg_softc *rundown_lagg_held_sc;
