# Near-duplicate review reads a group's members (annotation/selectors/neardup.py) and resolving
# updates them. A partial index holds only items that are in a group, so imports (which create
# items with no group) pay nothing for it.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('annotation', '0002_media_and_near_duplicates'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='item',
            index=models.Index(
                condition=models.Q(near_duplicate_group__isnull=False),
                fields=['near_duplicate_group'],
                name='item_near_duplicate_group',
            ),
        ),
    ]
