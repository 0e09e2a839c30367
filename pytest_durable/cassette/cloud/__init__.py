"""Cloud mode: the same test body against a deployed function, through boto3 only.

- :mod:`.environment`: ``CloudEnvironment``, the verbs of a local environment over the real API;
- :mod:`.functions`: which deployed function a handler is (ini option, marker, variables);
- :mod:`.reconstruct`: operations rebuilt from an execution's history (a test process has no
  checkpoint token to read the state).
"""
