"""The demo `make run` serves: `python manage.py seed_demo`. Top level (beside config/) because it knows
every app; nothing imports it."""
