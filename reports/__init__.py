"""Excel workbooks for finance and KPI tracking, written from warehouse tables (plain Python)."""
