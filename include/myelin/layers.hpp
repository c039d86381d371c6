// Deep-SNN layers in the NengoDL style (deep-snn §1.1): a "layer" is a transform on a
// connection into a passthrough node, or a population of neurons fed through `.neurons`.
// Everything stays an ordinary Network, so the NEF Simulator can run it and the Trainer can
// train it.
//
//   myelin::Network net("mnist", 0);
//   net.config().ensemble.max_rates = myelin::Choice({100});
//   net.config().ensemble.intercepts = myelin::Choice({0});
//   net.config().connection.synapse = myelin::None;
//   auto inp = net.node(std::vector<double>(28 * 28, 0.0));
//   myelin::Endpoint x = layer(net, myelin::Convolution(32, {28, 28, 1}), inp);
//   x = layer(net, myelin::LIF::with_amplitude(0.01), x);
//   ...
//   auto out = layer(net, myelin::Dense(10), x);
#pragma once

#include <string>

#include "myelin/network.hpp"
#include "myelin/transforms.hpp"

namespace myelin {

struct LayerOptions {
  /// Synapse of the connection into the layer; NengoDL's Layer default is None (no filter,
  /// no delay). Set it to use a filter.
  SynapseParam synapse = None;
  std::string label;
};

/// A transform layer: a passthrough Node of the transform's output size, fed by `x` through
/// `transform` (Convolution, AveragePooling, Dense, or any transform that fixes its output
/// size). Returns the node. ValidationError if the transform does not fit x.
Endpoint layer(Network& net, const Transform& transform, const Endpoint& x,
               const LayerOptions& opts = {});

/// A neuron layer: an Ensemble with one neuron per element of x (dimensions 1; gain and bias
/// from the network's config defaults, e.g. max_rates / intercepts) fed by x -> ens.neurons
/// with no transform. Returns ens.neurons().
Endpoint layer(Network& net, const NeuronParam& neuron_type, const Endpoint& x,
               const LayerOptions& opts = {});

}  // namespace myelin
