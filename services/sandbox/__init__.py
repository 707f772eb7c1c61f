"""The environment sandbox: ResearchGym-style tools in an isolated workspace per trajectory."""
