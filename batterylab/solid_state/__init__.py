"""All-solid-state cell model and grid fast-response duty."""
