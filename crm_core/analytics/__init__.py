"""Read-only reports: win rate, funnel, cycle, forecast and activity, as typed rows."""
