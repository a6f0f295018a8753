"""Pure message builders: Block Kit and HTML pages. Data in, message out."""
