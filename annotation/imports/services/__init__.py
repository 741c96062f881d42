"""Import services: jobs (create, run, finish) and the Label Studio annotations an import brings."""
