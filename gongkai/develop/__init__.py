"""The developer's commands: the whole stack on one machine (`gongkai up`), the demo county
and generated years of history (`gongkai demo`). Imported only when one of them is named."""
