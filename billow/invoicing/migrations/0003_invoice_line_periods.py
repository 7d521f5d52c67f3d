# The line period fields issue 12's h1 branch adds too (its 0002 migration): drop this file
# when merging h1.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('invoicing', '0002_credit_note_snapshots'),
    ]

    operations = [
        migrations.AddField(
            model_name='invoiceline',
            name='period_from',
            field=models.DateField(blank=True, null=True, verbose_name='period from'),
        ),
        migrations.AddField(
            model_name='invoiceline',
            name='period_to',
            field=models.DateField(blank=True, null=True, verbose_name='period to (exclusive)'),
        ),
    ]
