/* no_descriptor.c: a valid shared object that exports no berth_plugin. */
int not_a_berth_plugin(void);

int
not_a_berth_plugin(void)
{
    return 42;
}
