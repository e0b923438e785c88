// SPDX-License-Identifier: GPL-2.0
/* Registers a network device: needs a kernel with CONFIG_NET. */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>

static struct net_device *dev;

static int __init needs_net_init(void)
{
	dev = alloc_etherdev(0);
	if (!dev)
		return -ENOMEM;
	return register_netdev(dev);
}

static void __exit needs_net_exit(void)
{
	unregister_netdev(dev);
	free_netdev(dev);
}

module_init(needs_net_init);
module_exit(needs_net_exit);
MODULE_LICENSE("GPL");
