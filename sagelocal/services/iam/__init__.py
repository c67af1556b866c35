"""AWS IAM: users, access keys, roles, groups, managed and inline policies (`provider.IamProvider`),
AWS managed policies as data (`managed`), and the internal identity API (`identity`)."""
