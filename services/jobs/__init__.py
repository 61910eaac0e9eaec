"""Jobs workload: postings and resumes, their generator and loaders, retrieval and matching."""
