// One-line summaries of the opteadm-named verbs in cli_opte.ts, for `xdeno --help` (kept apart
// so the help text does not load the CLI).

/** Verb → summary. */
export const OPTE_VERB_SUMMARIES: Record<string, string> = {
  "allow-cidr": "let a port send/receive on a prefix (transit IP, per --dir)",
  "remove-cidr": "withdraw an allow-cidr (per --dir)",
  "attach-subnet": "give a port a subnet (-e: external, no NAT)",
  "detach-subnet": "take an attached subnet away",
  "clear-m2p": "clear a multicast-to-physical mapping",
  "clear-mcast-fwd": "clear underlay multicast forwarding",
  "dump-mcast-subs": "list multicast subscriptions by group",
  "mcast-unsubscribe-all": "unsubscribe every port from a group",
};
