"""A person's own data: /mydata shows it all, /forget erases it all."""
