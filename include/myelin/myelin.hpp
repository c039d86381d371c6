// Umbrella header: everything a user needs to model, simulate and plot.
#pragma once

#include "myelin/distributions.hpp"
#include "myelin/errors.hpp"
#include "myelin/learning.hpp"
#include "myelin/network.hpp"
#include "myelin/neurons.hpp"
#include "myelin/processes.hpp"
#include "myelin/rng.hpp"
#include "myelin/simulator.hpp"
#include "myelin/solvers.hpp"
#include "myelin/synapses.hpp"
#include "myelin/transforms.hpp"
#include "myelin/utils.hpp"
