// The frontend's storage: plain records of every object the user described. Read by the
// builder only; never by executors.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "myelin/network.hpp"

namespace myelin::detail {

struct EnsembleRec {
  std::size_t n_neurons = 0, dimensions = 0;
  EnsembleOptions opts;  // config defaults already applied
  std::size_t net = 0;
};

struct NodeRec {
  NodeOutput output;
  std::size_t size_in = 0, size_out = 0;
  std::string label;
  std::optional<std::uint64_t> seed;
  std::size_t net = 0;
};

struct ConnectionRec {
  Endpoint pre, post;
  ConnectionOptions opts;  // synapse/solver defaults already applied
  std::size_t size_mid = 0;
  bool size_mid_known = false;
  std::size_t net = 0;
};

struct ProbeRec {
  Endpoint target;
  ProbeOptions opts;  // attr resolved
  std::size_t size = 0;
  std::size_t net = 0;
};

struct NetworkRec {
  std::string label;
  std::optional<std::uint64_t> seed;
  std::optional<std::size_t> parent;
  Config config;
  // children in creation order, by kind (spec §2 seed order)
  std::vector<std::size_t> ensembles, nodes, connections, probes, networks;
};

struct Graph {
  std::vector<NetworkRec> nets;
  std::vector<EnsembleRec> ensembles;
  std::vector<NodeRec> nodes;
  std::vector<ConnectionRec> connections;
  std::vector<ProbeRec> probes;
};

/// Default display name of an object ("label" or "Ensemble #3").
std::string object_name(const Graph& g, ObjKind kind, std::size_t id);

}  // namespace myelin::detail
