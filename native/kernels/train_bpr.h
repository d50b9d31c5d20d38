// Transitional: matrix-factorization training now lives in train_mf.h (BPR, BCE, MSE, WARP).
#pragma once
#include "train_mf.h"
