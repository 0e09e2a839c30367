"""Recording a cloud-mode test as a cassette, and replaying it offline.

- :mod:`.format`: the cassette file (executions + HTTP interactions, readable YAML);
- :mod:`.vcr_bridge`: vcrpy for these APIs (a request matcher, header allowlists, a persister
  that keeps interactions inside the cassette document);
- :mod:`.scrub`: what never reaches a cassette (credentials, the account when masked);
- :mod:`.network`: the offline guarantee (sockets refused while replaying);
- :mod:`.modes`, :mod:`.recorder`: record modes, and one cloud-mode test's cassette.
"""
