"""Client-area views: parse input, call one selector or action, render (STYLE §1)."""
