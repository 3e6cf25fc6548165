import torch
import torch.optim as optim

# 数据：一个批次的四个样本
x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
y_true = torch.tensor([2.0, 4.0, 6.0, 8.0])

# 参数
w = torch.tensor(0.0, requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)


def model(x):
    print("计算预测值")
    return w * x + b


def loss_fn(y_pred, y_true):
    return ((y_pred - y_true) ** 2).mean()  # 均值，反向传播需要标量


optimizer = optim.SGD([w, b], lr=0.01)

for epoch in range(1):
    optimizer.zero_grad()  # 梯度清零
    y_pred = model(x)
    loss = loss_fn(y_pred, y_true)
    loss.backward()  # 反向传播
    optimizer.step()  # 更新参数
    print(f"w = {w.item()}, b = {b.item()}")
