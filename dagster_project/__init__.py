"""gxindustry: Guangxi Q4 2024 industrial-policy data warehouse."""
