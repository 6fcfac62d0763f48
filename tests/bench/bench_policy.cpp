// ns per policy decision at 10, 100 and 1,000 rules: the compiled rule index (what netmon
// uses) against walking the rules one by one (the reference), on the same policies and flows.
// Rules are what a large site writes: egress TCP to one host and one port each. Flows mostly
// match nothing (the default decides, the worst case for a walk), some match a late rule.
//
//   build/tests/vitrine_policy_bench [--benchmark_repetitions=3]
#include <benchmark/benchmark.h>
#include <netinet/in.h>

#include <random>

#include "vitrine/policy/evaluate.h"

using namespace vitrine;
using namespace vitrine::policy;

namespace {

Policy make_policy(size_t rules) {
  Policy p;
  p.default_action = Action::Deny;
  for (size_t i = 0; i < rules; ++i) {
    Rule r;
    r.name = "r" + std::to_string(i);
    r.direction = Direction::Egress;
    r.transport = Transport::Tcp;
    r.any_peer = false;
    r.peers.push_back(*Cidr::parse("10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".1/32"));
    r.ports.push_back({static_cast<uint16_t>(1000 + i), static_cast<uint16_t>(1000 + i)});
    r.action = Action::Allow;
    p.rules.push_back(r);
  }
  compile(p);
  return p;
}

std::vector<FlowFacts> make_flows(size_t rules) {
  std::mt19937 rng(7);
  std::vector<FlowFacts> flows;
  for (int i = 0; i < 1024; ++i) {
    FlowFacts f;
    f.direction = Direction::Egress;
    f.ip_protocol = IPPROTO_TCP;
    const size_t target = rules - 1 - rng() % std::max<size_t>(1, rules / 10);  // a late rule
    const bool hit = rng() % 4 == 0;
    f.peer = *IpAddr::parse("10." + std::to_string(target / 250) + "." + std::to_string(target % 250) + (hit ? ".1" : ".2"));
    f.service_port = static_cast<uint16_t>(1000 + target);
    flows.push_back(f);
  }
  return flows;
}

template <Decision (*Evaluate)(const Policy&, const FlowFacts&)>
void decisions(benchmark::State& state) {
  const size_t rules = static_cast<size_t>(state.range(0));
  const Policy p = make_policy(rules);
  const auto flows = make_flows(rules);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(Evaluate(p, flows[i++ & 1023]));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

}  // namespace

BENCHMARK(decisions<evaluate>)->Name("indexed")->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(decisions<evaluate_linear>)->Name("linear (reference)")->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK_MAIN();
