"""From data to the model's input: bed need, ward capacity and each site's options."""
