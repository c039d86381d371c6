// NengoDL-style layer helpers (deep-snn §1.1).
#include "myelin/layers.hpp"

#include "myelin/errors.hpp"

namespace myelin {

Endpoint layer(Network& net, const Transform& transform, const Endpoint& x,
               const LayerOptions& opts) {
  const std::size_t size_in = x.size();
  const auto size_out = transform.output_size(size_in);
  if (!size_out || *size_out == 0)
    throw ValidationError("layer(" + transform.repr() + ") on " + x.name() +
                          ": the transform does not determine an output size; give a Dense(units) "
                          "or an explicit matrix");
  transform.validate(*size_out, size_in, "layer(" + transform.repr() + ") on " + x.name());
  Node node = net.passthrough(*size_out, opts.label);
  net.connect(x, node, {.synapse = opts.synapse, .transform = transform});
  return node;
}

Endpoint layer(Network& net, const NeuronParam& neuron_type, const Endpoint& x,
               const LayerOptions& opts) {
  if (!neuron_type) throw ValidationError("layer on " + x.name() + ": null neuron type");
  Ensemble ens = net.ensemble(x.size(), 1, {.neuron_type = neuron_type, .label = opts.label});
  net.connect(x, ens.neurons(), {.synapse = opts.synapse});
  return ens.neurons();
}

}  // namespace myelin
