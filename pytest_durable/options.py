"""Names of pytest-durable's command-line flags that code below the pytest layer mentions.

A module without imports: the plugin declares these in every pytest session, and the code that
names them in its messages (golden files) must not make the plugin import it.
"""

from __future__ import annotations

#: Write missing golden files and rewrite those that no longer match.
UPDATE_FLAG = "--durable-update-goldens"
